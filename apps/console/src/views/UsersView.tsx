import { useState, type FormEvent } from 'react';
import { api, must, type Schemas } from '../api/client';
import { LoadedList } from '../loaded-list';
import { useMe } from '../session';
import { ErrorBox, Field, Select, TableWrap, useAction, useLoad } from '../ui';

type User = Schemas['UserView'];
type Role = Schemas['CreateUserDto']['role'];
const ROLES = ['admin', 'agent', 'auditor'] as const satisfies readonly Role[];
const CALLER_ID_PROVIDERS = ['sinch', 'twilio'] as const satisfies readonly Schemas['CreatePhoneNumberDto']['provider'][];

export function UsersView() {
  const users = useLoad(() => must(api.GET('/api/users')), []);
  const [selected, setSelected] = useState<string | null>(null);
  const chosen = users.data?.find((user) => user.id === selected);
  return (
    <>
      <CreateUser onCreated={users.reload} />
      <section aria-labelledby="users-list">
        <h2 id="users-list">Users of your org</h2>
        <LoadedList items={users.data} loading={users.loading} error={users.error} what="users" empty="No users yet.">
          {(items) => (
            <TableWrap label="Users">
              <thead>
                <tr>
                  <th scope="col">Email</th>
                  <th scope="col">Name</th>
                  <th scope="col">Role</th>
                  <th scope="col">Status</th>
                  <th scope="col">Actions</th>
                </tr>
              </thead>
              <tbody>
                {items.map((user) => (
                  <UserRow key={user.id} user={user} onChanged={users.reload} onCallerIds={() => setSelected(user.id)} />
                ))}
              </tbody>
            </TableWrap>
          )}
        </LoadedList>
      </section>
      {chosen && <CallerIds key={chosen.id} user={chosen} onClose={() => setSelected(null)} />}
    </>
  );
}

function CreateUser({ onCreated }: { onCreated: () => void }) {
  const empty = { email: '', name: '', password: '', role: 'agent' as Role };
  const [form, setForm] = useState(empty);
  const [created, setCreated] = useState<string | null>(null);
  const action = useAction(async () => {
    const user = await must(api.POST('/api/users', { body: { email: form.email, password: form.password, role: form.role, ...(form.name ? { name: form.name } : {}) } }));
    setCreated(user.email);
    setForm(empty);
    onCreated();
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setCreated(null);
    void action.run();
  };
  return (
    <section aria-labelledby="create-user">
      <h2 id="create-user">Create a user</h2>
      <form onSubmit={submit} className="grid-form" noValidate>
        <Field
          label="Email"
          name="email"
          type="email"
          required
          value={form.email}
          onChange={(event) => setForm({ ...form, email: event.target.value })}
          error={action.error}
        />
        <Field label="Name" name="name" value={form.name} onChange={(event) => setForm({ ...form, name: event.target.value })} error={action.error} />
        <Field
          label="Password"
          name="password"
          type="password"
          autoComplete="new-password"
          required
          hint="At least 12 characters"
          value={form.password}
          onChange={(event) => setForm({ ...form, password: event.target.value })}
          error={action.error}
        />
        <Select label="Role" name="role" options={ROLES} value={form.role} onChange={(event) => setForm({ ...form, role: toRole(event.target.value) })} error={action.error} />
        <div className="actions">
          <button type="submit" disabled={action.busy}>
            Create user
          </button>
        </div>
      </form>
      <ErrorBox error={action.error} fields={['email', 'name', 'password', 'role']} />
      {created && <p role="status">Created {created}.</p>}
    </section>
  );
}

function toRole(value: string): Role {
  return ROLES.find((role) => role === value) ?? 'agent';
}

function UserRow({ user, onChanged, onCallerIds }: { user: User; onChanged: () => void; onCallerIds: () => void }) {
  const me = useMe();
  const [role, setRole] = useState<Role>(toRole(user.role));
  const update = useAction(async (body: Schemas['UpdateUserDto']) => {
    await must(api.PATCH('/api/users/{id}', { params: { path: { id: user.id } }, body }));
    onChanged();
  });
  const remove = useAction(async () => {
    await must(api.DELETE('/api/users/{id}', { params: { path: { id: user.id } } }));
    onChanged();
  });
  const self = user.id === me.me.userId;
  return (
    <tr>
      <td>{user.email}</td>
      <td>{user.name ?? '—'}</td>
      <td>
        <div className="inline">
          <Select label={`Role of ${user.email}`} className="compact" options={ROLES} value={role} onChange={(event) => setRole(toRole(event.target.value))} />
          <button type="button" className="secondary" disabled={role === user.role || update.busy} onClick={() => void update.run({ role })}>
            Save role
          </button>
        </div>
      </td>
      <td>{user.disabled ? 'Disabled' : 'Active'}</td>
      <td>
        <div className="inline">
          <button type="button" className="secondary" onClick={onCallerIds} aria-label={`Caller IDs of ${user.email}`}>
            Caller IDs
          </button>
          <button
            type="button"
            className="secondary"
            disabled={self || update.busy}
            onClick={() => void update.run({ disabled: !user.disabled })}
            aria-label={`${user.disabled ? 'Enable' : 'Disable'} ${user.email}`}
          >
            {user.disabled ? 'Enable' : 'Disable'}
          </button>
          <button
            type="button"
            className="danger"
            disabled={self || remove.busy}
            aria-label={`Delete ${user.email}`}
            onClick={() => {
              if (window.confirm(`Delete ${user.email}? Their sessions end at once.`)) void remove.run();
            }}
          >
            Delete
          </button>
        </div>
        <ErrorBox error={update.error ?? remove.error} />
      </td>
    </tr>
  );
}

function CallerIds({ user, onClose }: { user: User; onClose: () => void }) {
  const numbers = useLoad(() => must(api.GET('/api/users/{id}/phone-numbers', { params: { path: { id: user.id } } })), [user.id]);
  const [form, setForm] = useState({ provider: 'sinch' as (typeof CALLER_ID_PROVIDERS)[number], phoneNumber: '', label: '', isDefault: false });
  const add = useAction(async () => {
    await must(
      api.POST('/api/users/{id}/phone-numbers', {
        params: { path: { id: user.id } },
        body: { provider: form.provider, phoneNumber: form.phoneNumber, ...(form.label ? { label: form.label } : {}), ...(form.isDefault ? { isDefault: true } : {}) },
      }),
    );
    setForm({ ...form, phoneNumber: '', label: '', isDefault: false });
    numbers.reload();
  });
  const remove = useAction(async (numberId: string) => {
    await must(api.DELETE('/api/users/{id}/phone-numbers/{numberId}', { params: { path: { id: user.id, numberId } } }));
    numbers.reload();
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void add.run();
  };
  return (
    <section aria-labelledby="caller-ids" className="panel">
      <h2 id="caller-ids">Caller IDs of {user.email}</h2>
      <LoadedList
        items={numbers.data}
        loading={numbers.loading}
        error={numbers.error ?? remove.error}
        what="caller IDs"
        empty="No caller IDs yet. A user's first number for a provider becomes its default."
      >
        {(items) => (
          <ul className="plain">
            {items.map((number) => (
              <li key={number.id}>
                <span>
                  {number.phoneNumber} · {number.provider}
                  {number.label ? ` · ${number.label}` : ''}
                  {number.isDefault ? ' · default' : ''}
                </span>{' '}
                <button type="button" className="secondary" aria-label={`Remove ${number.phoneNumber}`} onClick={() => void remove.run(number.id)}>
                  Remove
                </button>
              </li>
            ))}
          </ul>
        )}
      </LoadedList>
      <form onSubmit={submit} className="grid-form" noValidate>
        <Select
          label="Provider"
          name="provider"
          options={CALLER_ID_PROVIDERS}
          value={form.provider}
          onChange={(event) => setForm({ ...form, provider: CALLER_ID_PROVIDERS.find((item) => item === event.target.value) ?? 'sinch' })}
          error={add.error}
        />
        <Field
          label="Phone number"
          name="phoneNumber"
          hint="E.164, e.g. +14165550100"
          required
          value={form.phoneNumber}
          onChange={(event) => setForm({ ...form, phoneNumber: event.target.value })}
          error={add.error}
        />
        <Field label="Label" name="label" value={form.label} onChange={(event) => setForm({ ...form, label: event.target.value })} error={add.error} />
        <Field
          label="Make it the default"
          name="isDefault"
          type="checkbox"
          checked={form.isDefault}
          onChange={(event) => setForm({ ...form, isDefault: event.target.checked })}
        />
        <div className="actions">
          <button type="submit" disabled={add.busy}>
            Add caller ID
          </button>
          <button type="button" className="secondary" onClick={onClose}>
            Close
          </button>
        </div>
      </form>
      <ErrorBox error={add.error} fields={['provider', 'phoneNumber', 'label', 'isDefault']} />
    </section>
  );
}
