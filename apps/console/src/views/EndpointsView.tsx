import { useState, type FormEvent } from 'react';
import { api, must } from '../api/client';
import { LoadedList } from '../loaded-list';
import { ErrorBox, Field, TableWrap, useAction, useLoad } from '../ui';

export function EndpointsView() {
  const endpoints = useLoad(() => must(api.GET('/api/endpoints')), []);
  const [name, setName] = useState('');
  const [webrtc, setWebrtc] = useState(true);
  const create = useAction(async () => {
    await must(api.POST('/api/endpoints', { body: { name, webrtc } }));
    setName('');
    endpoints.reload();
  });
  const update = useAction(async (id: string, state: 'active' | 'archived') => {
    await must(api.PATCH('/api/endpoints/{id}', { params: { path: { id } }, body: { state } }));
    endpoints.reload();
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void create.run();
  };
  return (
    <>
      <section aria-labelledby="create-endpoint">
        <h2 id="create-endpoint">Create a WebRTC endpoint</h2>
        <form onSubmit={submit} className="grid-form" noValidate>
          <Field label="Endpoint name" name="name" required value={name} onChange={(event) => setName(event.target.value)} error={create.error} />
          <Field label="WebRTC capable" name="webrtc" type="checkbox" checked={webrtc} onChange={(event) => setWebrtc(event.target.checked)} />
          <div className="actions">
            <button type="submit" disabled={create.busy}>
              Create endpoint
            </button>
          </div>
        </form>
        <ErrorBox error={create.error} fields={['name', 'webrtc']} />
      </section>
      <section aria-labelledby="endpoints-list">
        <h2 id="endpoints-list">Endpoints</h2>
        <LoadedList items={endpoints.data} loading={endpoints.loading} error={endpoints.error ?? update.error} what="endpoints" empty="No endpoints yet.">
          {(items) => (
            <TableWrap label="Endpoints">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">WebRTC</th>
                  <th scope="col">State</th>
                  <th scope="col">Id</th>
                  <th scope="col">Actions</th>
                </tr>
              </thead>
              <tbody>
                {items.map((endpoint) => (
                  <tr key={endpoint.id}>
                    <td>{endpoint.name}</td>
                    <td>{endpoint.webrtc ? 'yes' : 'no'}</td>
                    <td>{endpoint.state}</td>
                    <td>
                      <code>{endpoint.id}</code>
                    </td>
                    <td>
                      <button
                        type="button"
                        className="secondary"
                        aria-label={`${endpoint.state === 'active' ? 'Archive' : 'Activate'} ${endpoint.name}`}
                        onClick={() => void update.run(endpoint.id, endpoint.state === 'active' ? 'archived' : 'active')}
                      >
                        {endpoint.state === 'active' ? 'Archive' : 'Activate'}
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
