import { useState, type FormEvent } from 'react';
import { api, must, type Schemas } from '../api/client';
import { LoadedList } from '../loaded-list';
import { useMe } from '../session';
import { ErrorBox, Field, formatTime, TableWrap, useAction, useLoad, utcInputToIso } from '../ui';

type Scope = Schemas['CreateApiKeyDto']['scopes'][number];

export function ApiKeysView() {
  const keys = useLoad(() => must(api.GET('/api/api-keys')), []);
  const [created, setCreated] = useState<Schemas['CreatedApiKeyView'] | null>(null);
  const remove = useAction(async (id: string) => {
    await must(api.DELETE('/api/api-keys/{id}', { params: { path: { id } } }));
    keys.reload();
  });
  return (
    <>
      <CreateKey
        onCreated={(key) => {
          setCreated(key);
          keys.reload();
        }}
      />
      {created && <CreatedToken created={created} onDone={() => setCreated(null)} />}
      <section aria-labelledby="keys-list">
        <h2 id="keys-list">API keys of your org</h2>
        <LoadedList items={keys.data} loading={keys.loading} error={keys.error ?? remove.error} what="API keys" empty="No API keys yet.">
          {(items) => (
            <TableWrap label="API keys">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Prefix</th>
                  <th scope="col">Scopes</th>
                  <th scope="col">Last used</th>
                  <th scope="col">Expires</th>
                  <th scope="col">Actions</th>
                </tr>
              </thead>
              <tbody>
                {items.map((key) => (
                  <tr key={key.id}>
                    <td>{key.name}</td>
                    <td>
                      <code>{key.prefix}…</code>
                    </td>
                    <td>{key.scopes.join(', ')}</td>
                    <td>{formatTime(key.lastUsedAt)}</td>
                    <td>{formatTime(key.expiresAt)}</td>
                    <td>
                      <button
                        type="button"
                        className="danger"
                        aria-label={`Revoke ${key.name}`}
                        onClick={() => {
                          if (window.confirm(`Revoke the key ${key.name}? It is refused from the next request on.`)) void remove.run(key.id);
                        }}
                      >
                        Revoke
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </TableWrap>
          )}
        </LoadedList>
      </section>
    </>
  );
}

function CreateKey({ onCreated }: { onCreated: (key: Schemas['CreatedApiKeyView']) => void }) {
  const { me } = useMe();
  // A key holds a subset of its creator's scopes: offer only the caller's own.
  const own = me.scopes;
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<Scope[]>([]);
  const [expiresAt, setExpiresAt] = useState('');
  const [maxRequestsPerDay, setMax] = useState('');
  const action = useAction(async () => {
    const expires = utcInputToIso(expiresAt);
    const key = await must(
      api.POST('/api/api-keys', {
        body: { name, scopes, ...(expires ? { expiresAt: expires } : {}), ...(maxRequestsPerDay ? { maxRequestsPerDay: Number(maxRequestsPerDay) } : {}) },
      }),
    );
    setName('');
    setScopes([]);
    setExpiresAt('');
    setMax('');
    onCreated(key);
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void action.run();
  };
  return (
    <section aria-labelledby="create-key">
      <h2 id="create-key">Create an API key</h2>
      <form onSubmit={submit} noValidate>
        <div className="grid-form">
          <Field label="Key name" name="name" required value={name} onChange={(event) => setName(event.target.value)} error={action.error} />
          <Field
            label="Expires at (UTC, optional)"
            name="expiresAt"
            type="datetime-local"
            value={expiresAt}
            onChange={(event) => setExpiresAt(event.target.value)}
            error={action.error}
          />
          <Field
            label="Requests per day (optional)"
            name="maxRequestsPerDay"
            type="number"
            min={1}
            value={maxRequestsPerDay}
            onChange={(event) => setMax(event.target.value)}
            error={action.error}
          />
        </div>
        <fieldset>
          <legend>Scopes (from your own)</legend>
          <div className="checks">
            {own.map((scope) => (
              <Field
                key={scope}
                label={scope}
                type="checkbox"
                checked={scopes.includes(scope)}
                onChange={(event) => setScopes(event.target.checked ? [...scopes, scope] : scopes.filter((item) => item !== scope))}
              />
            ))}
          </div>
        </fieldset>
        <div className="actions">
          <button type="submit" disabled={action.busy}>
            Create key
          </button>
        </div>
      </form>
      <ErrorBox error={action.error} fields={['name', 'expiresAt', 'maxRequestsPerDay']} />
    </section>
  );
}

function CreatedToken({ created, onDone }: { created: Schemas['CreatedApiKeyView']; onDone: () => void }) {
  const [copied, setCopied] = useState<string | null>(null);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(created.token);
      setCopied('Copied to the clipboard.');
    } catch {
      setCopied('The browser refused the clipboard: select the token and copy it.');
    }
  };
  return (
    <section className="panel once" aria-labelledby="new-key">
      <h2 id="new-key">Key {created.name} created</h2>
      <p>This is the only time the token is shown. Copy it now; the service keeps only its hash.</p>
      <p>
        <label htmlFor="new-key-token">Token</label>
        <input id="new-key-token" className="token" readOnly value={created.token} onFocus={(event) => event.target.select()} />
      </p>
      <div className="actions">
        <button type="button" onClick={() => void copy()}>
          Copy token
        </button>
        <button type="button" className="secondary" onClick={onDone}>
          Done
        </button>
      </div>
      {copied && <p role="status">{copied}</p>}
    </section>
  );
}
