import { api, must } from '../api/client';
import { useFilters } from '../filters';
import { PageButtons, useCursors } from '../paging';
import { Empty, ErrorBox, Field, formatTime, Loading, TableWrap, useLoad, utcInputToIso } from '../ui';

interface Filters {
  targetType: string;
  action: string;
  from: string;
  to: string;
}

const NONE: Filters = { targetType: '', action: '', from: '', to: '' };

export function EventsView() {
  const pages = useCursors();
  const { draft, applied, set, submit } = useFilters(NONE, pages.restart);
  const { cursor } = pages;
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
  return (
    <>
      <form onSubmit={submit} className="grid-form filters" aria-label="Event filters" noValidate>
        <Field
          label="Target type"
          name="targetType"
          hint="e.g. user, api_key, credentials, endpoint"
          value={draft.targetType}
          onChange={set('targetType')}
          error={page.error}
        />
        <Field label="Action" name="action" hint="e.g. user.created" value={draft.action} onChange={set('action')} error={page.error} />
        <Field label="From (UTC)" name="from" type="datetime-local" value={draft.from} onChange={set('from')} error={page.error} />
        <Field label="To (UTC)" name="to" type="datetime-local" value={draft.to} onChange={set('to')} error={page.error} />
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
      <PageButtons pages={pages} nextCursor={page.data?.nextCursor} />
    </>
  );
}
