import { useState, type FormEvent } from 'react';
import { api, must } from '../api/client';
import { Empty, ErrorBox, Field, formatTime, Loading, TableWrap, useLoad, utcInputToIso } from '../ui';

interface Filters {
  targetType: string;
  action: string;
  from: string;
  to: string;
}

const NONE: Filters = { targetType: '', action: '', from: '', to: '' };

export function EventsView() {
  const [draft, setDraft] = useState<Filters>(NONE);
  const [applied, setApplied] = useState<Filters>(NONE);
  const [cursors, setCursors] = useState<string[]>([]);
  const cursor = cursors[cursors.length - 1];
  const page = useLoad(() => {
    const from = utcInputToIso(applied.from);
    const to = utcInputToIso(applied.to);
    const query = {
      limit: 50,
      ...(applied.targetType ? { targetType: applied.targetType } : {}),
      ...(applied.action ? { action: applied.action } : {}),
      ...(from ? { from } : {}),
      ...(to ? { to } : {}),
      ...(cursor ? { cursor } : {}),
    };
    return must(api.GET('/api/audit/events', { params: { query } }));
  }, [applied, cursor]);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setCursors([]);
    setApplied(draft);
  };
  return (
    <>
      <form onSubmit={submit} className="grid-form filters" aria-label="Event filters" noValidate>
        <Field
          label="Target type"
          name="targetType"
          hint="e.g. user, api_key, credentials, endpoint"
          value={draft.targetType}
          onChange={(event) => setDraft({ ...draft, targetType: event.target.value })}
          error={page.error}
        />
        <Field
          label="Action"
          name="action"
          hint="e.g. user.created"
          value={draft.action}
          onChange={(event) => setDraft({ ...draft, action: event.target.value })}
          error={page.error}
        />
        <Field
          label="From (UTC)"
          name="from"
          type="datetime-local"
          value={draft.from}
          onChange={(event) => setDraft({ ...draft, from: event.target.value })}
          error={page.error}
        />
        <Field label="To (UTC)" name="to" type="datetime-local" value={draft.to} onChange={(event) => setDraft({ ...draft, to: event.target.value })} error={page.error} />
        <div className="actions">
          <button type="submit">Apply filters</button>
        </div>
      </form>
      <ErrorBox error={page.error} fields={Object.keys(NONE)} />
      {page.loading && <Loading what="configuration events" />}
      {page.data && page.data.items.length === 0 && <Empty>No configuration events match.</Empty>}
      {page.data && page.data.items.length > 0 && (
        <TableWrap label="Configuration events">
          <thead>
            <tr>
              <th scope="col">At</th>
              <th scope="col">Action</th>
              <th scope="col">Target</th>
              <th scope="col">By</th>
              <th scope="col">Details</th>
            </tr>
          </thead>
          <tbody>
            {page.data.items.map((event) => (
              <tr key={event.id}>
                <td>{formatTime(event.at)}</td>
                <td>{event.action}</td>
                <td>
                  {event.targetType} <code>{event.targetId ?? ''}</code>
                </td>
                <td>
                  {event.actor.kind} <code>{event.actor.id ?? ''}</code>
                </td>
                <td>
                  <code className="wrap">{JSON.stringify(event.details)}</code>
                </td>
              </tr>
            ))}
          </tbody>
        </TableWrap>
      )}
      <div className="actions">
        <button type="button" className="secondary" disabled={cursors.length === 0} onClick={() => setCursors(cursors.slice(0, -1))}>
          Previous page
        </button>
        <button
          type="button"
          className="secondary"
          disabled={!page.data?.nextCursor}
          onClick={() => {
            const next = page.data?.nextCursor;
            if (next) setCursors([...cursors, next]);
          }}
        >
          Next page
        </button>
      </div>
    </>
  );
}
