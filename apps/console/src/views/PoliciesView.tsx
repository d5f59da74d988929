import { useEffect, useId, useState, type FormEvent } from 'react';
import { api, must, type Schemas } from '../api/client';
import type { paths } from '../api/openapi';
import { parameterEnum } from '../api/openapi-runtime';
import { LoadedList } from '../loaded-list';
import { useSession } from '../session';
import { ErrorBox, Field, formatTime, Select, TableWrap, useAction, useLoad } from '../ui';

type Policy = Schemas['PolicyView'];
type Provider = Policy['provider'];
type Role = NonNullable<Policy['roles']>[number];
type EvaluateQuery = NonNullable<paths['/api/policies/{provider}/evaluate']['get']['parameters']['query']>;
const ROLES = ['admin', 'agent', 'auditor'] as const satisfies readonly Role[];

/** Token policies: everyone who may read them sees them and can evaluate; MANAGE_CREDENTIALS changes them. */
export function PoliciesView() {
  const { can } = useSession();
  const providers = useLoad(() => parameterEnum('/api/policies/{provider}', 'provider'), []);
  const policies = useLoad(() => must(api.GET('/api/policies')), []);
  const [provider, setProvider] = useState<string>('');
  useEffect(() => {
    if (!provider && providers.data?.[0]) setProvider(providers.data[0]);
  }, [provider, providers.data]);
  const current = policies.data?.items.find((item) => item.provider === provider);
  return (
    <>
      <section aria-labelledby="policies-list">
        <h2 id="policies-list">Policies of your org</h2>
        <LoadedList
          items={policies.data?.items}
          loading={policies.loading}
          error={policies.error ?? providers.error}
          what="policies"
          empty="No token policies: every provider mints as asked."
        >
          {(items) => (
            <TableWrap label="Token policies">
              <thead>
                <tr>
                  <th scope="col">Provider</th>
                  <th scope="col">Max lifetime</th>
                  <th scope="col">Roles</th>
                  <th scope="col">Rooms</th>
                  <th scope="col">Publish</th>
                  <th scope="col">Updated</th>
                </tr>
              </thead>
              <tbody>
                {items.map((policy) => (
                  <tr key={policy.provider}>
                    <td>{policy.provider}</td>
                    <td>{policy.maxTtlSeconds === null ? 'no cap' : `${policy.maxTtlSeconds} s`}</td>
                    <td>{policy.roles?.join(', ') ?? 'any'}</td>
                    <td>{policy.rooms?.join(', ') ?? 'any'}</td>
                    <td>{policy.publish === false ? 'no' : 'as asked'}</td>
                    <td>{formatTime(policy.updatedAt)}</td>
                  </tr>
                ))}
              </tbody>
            </TableWrap>
          )}
        </LoadedList>
      </section>
      {providers.data && providers.data.length > 0 && (
        <div className="grid-form">
          <Select label="Provider to edit and evaluate" options={providers.data} value={provider} onChange={(event) => setProvider(event.target.value)} />
        </div>
      )}
      {provider && can('MANAGE_CREDENTIALS') && (
        <PolicyForm key={`${provider}:${current?.updatedAt ?? 'none'}`} provider={provider} current={current} onChanged={policies.reload} />
      )}
      {provider && <Evaluate key={provider} provider={provider} />}
    </>
  );
}

function PolicyForm({ provider, current, onChanged }: { provider: string; current: Policy | undefined; onChanged: () => void }) {
  const roomsId = useId();
  const [maxTtl, setMaxTtl] = useState(current?.maxTtlSeconds?.toString() ?? '');
  const [roles, setRoles] = useState<Role[]>(current?.roles ?? []);
  const [rooms, setRooms] = useState((current?.rooms ?? []).join('\n'));
  const [publish, setPublish] = useState(current?.publish === false ? 'false' : 'asked');
  const path = { provider: provider as Provider };
  const save = useAction(async () => {
    const patterns = rooms
      .split('\n')
      .map((line) => line.trim())
      .filter(Boolean);
    await must(
      api.PUT('/api/policies/{provider}', {
        params: { path },
        body: {
          ...(maxTtl ? { maxTtlSeconds: Number(maxTtl) } : {}),
          ...(roles.length > 0 ? { roles } : {}),
          ...(patterns.length > 0 ? { rooms: patterns } : {}),
          ...(publish === 'false' ? { publish: false } : {}),
        },
      }),
    );
    onChanged();
  });
  const remove = useAction(async () => {
    await must(api.DELETE('/api/policies/{provider}', { params: { path } }));
    onChanged();
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void save.run();
  };
  return (
    <section className="card" aria-labelledby="policy-form">
      <h2 id="policy-form">Policy for {provider}</h2>
      <form onSubmit={submit} noValidate>
        <div className="grid-form">
          <Field
            label="Longest lifetime in seconds (optional)"
            name="maxTtlSeconds"
            type="number"
            min={60}
            max={86400}
            value={maxTtl}
            onChange={(event) => setMaxTtl(event.target.value)}
            error={save.error}
          />
          <Select
            label="Publish rights"
            name="publish"
            options={[
              { value: 'asked', label: 'as asked' },
              { value: 'false', label: 'none (subscribe only)' },
            ]}
            value={publish}
            onChange={(event) => setPublish(event.target.value)}
            error={save.error}
          />
          <div className="field">
            <label htmlFor={roomsId}>Room patterns, one per line (optional)</label>
            <textarea id={roomsId} name="rooms" rows={3} value={rooms} onChange={(event) => setRooms(event.target.value)} aria-describedby={`${roomsId}-hint`} />
            <small id={`${roomsId}-hint`} className="hint">
              * any run of characters, ? one, {'{userId}'} the user&apos;s id
            </small>
          </div>
        </div>
        <fieldset>
          <legend>Roles allowed (none checked: any role)</legend>
          <div className="checks">
            {ROLES.map((role) => (
              <Field
                key={role}
                label={`Role ${role}`}
                type="checkbox"
                checked={roles.includes(role)}
                onChange={(event) => setRoles(event.target.checked ? [...roles, role] : roles.filter((item) => item !== role))}
              />
            ))}
          </div>
        </fieldset>
        <div className="actions">
          <button type="submit" disabled={save.busy}>
            Save policy
          </button>
          <button type="button" className="danger" disabled={!current || remove.busy} onClick={() => void remove.run()}>
            Delete policy
          </button>
        </div>
      </form>
      <ErrorBox error={save.error ?? remove.error} fields={['maxTtlSeconds', 'publish']} />
      {current && <p className="muted">Saved {formatTime(current.updatedAt)}.</p>}
    </section>
  );
}

function Evaluate({ provider }: { provider: string }) {
  const [form, setForm] = useState({ userId: '', room: '', ttlSeconds: '', publish: '' });
  const [result, setResult] = useState<Schemas['PolicyEvaluationView'] | null>(null);
  const evaluate = useAction(async () => {
    const query: EvaluateQuery = {
      ...(form.userId.trim() ? { userId: form.userId.trim() } : {}),
      ...(form.room ? { room: form.room } : {}),
      ...(form.ttlSeconds ? { ttlSeconds: Number(form.ttlSeconds) } : {}),
      ...(form.publish === 'true' || form.publish === 'false' ? { publish: form.publish } : {}),
    };
    setResult(await must(api.GET('/api/policies/{provider}/evaluate', { params: { path: { provider: provider as Provider }, query } })));
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setResult(null);
    void evaluate.run();
  };
  return (
    <section className="card" aria-labelledby="evaluate">
      <h2 id="evaluate">Evaluate a {provider} mint</h2>
      <form onSubmit={submit} className="grid-form" noValidate>
        <Field
          label="User id"
          name="userId"
          hint="Default: yourself"
          value={form.userId}
          onChange={(event) => setForm({ ...form, userId: event.target.value })}
          error={evaluate.error}
        />
        <Field label="Room" name="room" value={form.room} onChange={(event) => setForm({ ...form, room: event.target.value })} error={evaluate.error} />
        <Field
          label="Lifetime in seconds"
          name="ttlSeconds"
          type="number"
          value={form.ttlSeconds}
          onChange={(event) => setForm({ ...form, ttlSeconds: event.target.value })}
          error={evaluate.error}
        />
        <Select
          label="Publish asked"
          name="publish"
          options={[
            { value: '', label: "provider's default" },
            { value: 'true', label: 'yes' },
            { value: 'false', label: 'no' },
          ]}
          value={form.publish}
          onChange={(event) => setForm({ ...form, publish: event.target.value })}
          error={evaluate.error}
        />
        <div className="actions">
          <button type="submit" disabled={evaluate.busy}>
            Evaluate
          </button>
        </div>
      </form>
      <ErrorBox error={evaluate.error} fields={['userId', 'room', 'ttlSeconds', 'publish']} />
      {result && (
        <div role="status" className={result.allowed ? 'ok' : 'bad'}>
          <p>
            <strong>{result.allowed ? 'Allowed' : 'Denied'}</strong>
            {result.effectiveTtlSeconds !== null && `: the token would live ${result.effectiveTtlSeconds} s`}
          </p>
          {result.reasons.length > 0 && (
            <ul>
              {result.reasons.map((reason) => (
                <li key={`${reason.field}-${reason.effect}`}>
                  {reason.field} ({reason.effect}): {reason.message}
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
    </section>
  );
}
