import { useState } from 'react';
import { api, download, must, type Schemas } from '../api/client';
import type { paths } from '../api/openapi';
import { parameterEnum } from '../api/openapi-runtime';
import { useFilters } from '../filters';
import { PageButtons, useCursors } from '../paging';
import { Empty, ErrorBox, Field, formatTime, Loading, Select, TableWrap, useAction, useLoad, utcInputToIso } from '../ui';

type Entry = Schemas['MintAuditEntryView'];
type Query = NonNullable<paths['/api/audit/mints']['get']['parameters']['query']>;
const OUTCOMES = ['issued', 'denied', 'failed'] as const satisfies readonly Entry['outcome'][];

interface Filters {
  provider: string;
  outcome: string;
  actorId: string;
  subjectUserId: string;
  from: string;
  to: string;
}

const NO_FILTERS: Filters = { provider: '', outcome: '', actorId: '', subjectUserId: '', from: '', to: '' };

function toQuery(filters: Filters): Record<string, string> {
  const query: Record<string, string> = {};
  if (filters.provider) query.provider = filters.provider;
  if (filters.outcome) query.outcome = filters.outcome;
  if (filters.actorId.trim()) query.actorId = filters.actorId.trim();
  if (filters.subjectUserId.trim()) query.subjectUserId = filters.subjectUserId.trim();
  const from = utcInputToIso(filters.from);
  const to = utcInputToIso(filters.to);
  if (from) query.from = from;
  if (to) query.to = to;
  return query;
}

/** The filters as the typed query (the provider and outcome come from the service's own enums). */
function pageQuery(filters: Filters, cursor: string | undefined, limit: number): Query {
  const { provider, outcome, ...rest } = toQuery(filters);
  return {
    ...rest,
    ...(provider ? { provider: provider as Query['provider'] } : {}),
    ...(outcome ? { outcome: outcome as Query['outcome'] } : {}),
    limit,
    ...(cursor ? { cursor } : {}),
  };
}

export function MintLogView() {
  const providers = useLoad(() => parameterEnum('/api/audit/mints', 'provider'), []);
  const [open, setOpen] = useState<Entry | null>(null);
  const pages = useCursors();
  // Other filters show other entries: back to the first page, and the details shown are closed.
  const { draft, applied, set, submit, clear } = useFilters(NO_FILTERS, () => {
    pages.restart();
    setOpen(null);
  });
  const { cursor } = pages;
  const [limit, setLimit] = useState(50);
  const page = useLoad(() => must(api.GET('/api/audit/mints', { params: { query: pageQuery(applied, cursor, limit) } })), [applied, cursor, limit]);
  const [exported, setExported] = useState<{ url: string; fileName: string } | null>(null);
  const exporter = useAction(async (format: 'ndjson' | 'csv') => {
    const query = new URLSearchParams({ format, ...toQuery(applied) });
    const { blob, fileName } = await download(`/api/audit/mints/export?${query.toString()}`);
    if (exported) URL.revokeObjectURL(exported.url);
    const url = URL.createObjectURL(blob);
    setExported({ url, fileName });
    // Saves it at once; the link below stays for a second try.
    const link = document.createElement('a');
    link.href = url;
    link.download = fileName;
    document.body.append(link);
    link.click();
    link.remove();
  });
  return (
    <>
      <form onSubmit={submit} className="grid-form filters" aria-label="Mint log filters" noValidate>
        <Select
          label="Provider"
          name="provider"
          options={[{ value: '', label: 'any' }, ...(providers.data ?? [])]}
          value={draft.provider}
          onChange={set('provider')}
          error={page.error}
        />
        <Select label="Outcome" name="outcome" options={[{ value: '', label: 'any' }, ...OUTCOMES]} value={draft.outcome} onChange={set('outcome')} error={page.error} />
        <Field label="Actor id" name="actorId" value={draft.actorId} onChange={set('actorId')} error={page.error} hint="The user or API key that asked" />
        <Field label="Subject user id" name="subjectUserId" value={draft.subjectUserId} onChange={set('subjectUserId')} error={page.error} hint="The user the token was for" />
        <Field label="From (UTC)" name="from" type="datetime-local" value={draft.from} onChange={set('from')} error={page.error} />
        <Field label="To (UTC)" name="to" type="datetime-local" value={draft.to} onChange={set('to')} error={page.error} />
        <Select
          label="Entries per page"
          options={['10', '50', '100', '500']}
          value={String(limit)}
          onChange={(event) => {
            pages.restart();
            setLimit(Number(event.target.value));
          }}
        />
        <div className="actions">
          <button type="submit">Apply filters</button>
          <button
            type="button"
            className="secondary"
            onClick={() => {
              clear();
              pages.restart();
            }}
          >
            Clear filters
          </button>
        </div>
      </form>
      <div className="actions">
        <button type="button" className="secondary" disabled={exporter.busy} onClick={() => void exporter.run('ndjson')}>
          Export NDJSON
        </button>
        <button type="button" className="secondary" disabled={exporter.busy} onClick={() => void exporter.run('csv')}>
          Export CSV
        </button>
        {exporter.busy && <span role="status">Preparing the export…</span>}
        {exported && !exporter.busy && (
          <a href={exported.url} download={exported.fileName}>
            Download {exported.fileName} again
          </a>
        )}
      </div>
      <ErrorBox error={exporter.error} />
      <ErrorBox error={page.error} fields={Object.keys(NO_FILTERS)} />
      {page.loading && <Loading what="mint entries" />}
      {page.data && page.data.items.length === 0 && <Empty>No mint entries match.</Empty>}
      {page.data && page.data.items.length > 0 && (
        <TableWrap label="Mint entries">
          <thead>
            <tr>
              <th scope="col">At</th>
              <th scope="col">Provider</th>
              <th scope="col">Outcome</th>
              <th scope="col">Code</th>
              <th scope="col">Actor</th>
              <th scope="col">Subject</th>
              <th scope="col">Details</th>
            </tr>
          </thead>
          <tbody>
            {page.data.items.map((entry) => (
              <tr key={entry.id} aria-selected={open?.id === entry.id}>
                <td>{formatTime(entry.at)}</td>
                <td>{entry.provider}</td>
                <td>
                  <span className={`badge ${entry.outcome}`}>{entry.outcome}</span>
                </td>
                <td>{entry.code ?? '—'}</td>
                <td>
                  {entry.actor.kind} <code>{short(entry.actor.id)}</code>
                </td>
                <td>
                  <code>{short(entry.subjectUserId)}</code>
                </td>
                <td>
                  <button type="button" className="secondary" aria-label={`Details of the ${entry.provider} mint at ${formatTime(entry.at)}`} onClick={() => setOpen(entry)}>
                    Details
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </TableWrap>
      )}
      <PageButtons pages={pages} nextCursor={page.data?.nextCursor} />
      {open && <EntryDetails entry={open} onClose={() => setOpen(null)} />}
    </>
  );
}

function short(id: string | null): string {
  return id ? `${id.slice(0, 8)}…` : '—';
}

function EntryDetails({ entry, onClose }: { entry: Entry; onClose: () => void }) {
  const rows: Array<[string, string]> = [
    ['Id', entry.id],
    ['At', formatTime(entry.at)],
    ['Provider', entry.provider],
    ['Action', entry.action],
    ['Outcome', entry.outcome],
    ['Code', entry.code ?? '—'],
    ['Actor', `${entry.actor.kind} ${entry.actor.id ?? ''}`],
    ['Subject user', entry.subjectUserId ?? '—'],
    ['Target', entry.target ?? '—'],
    ['Token fingerprint', entry.tokenFingerprint ?? '—'],
    ['Token expires', formatTime(entry.expiresAt)],
    ['IP', entry.ip ?? '—'],
    ['User agent', entry.userAgent ?? '—'],
    ['Request id', entry.requestId ?? '—'],
  ];
  return (
    <section className="panel" aria-labelledby="entry-details">
      <h2 id="entry-details">Mint entry {entry.id}</h2>
      <dl className="facts">
        {rows.map(([name, value]) => (
          <div key={name}>
            <dt>{name}</dt>
            <dd>{value}</dd>
          </div>
        ))}
      </dl>
      <button type="button" className="secondary" onClick={onClose}>
        Close details
      </button>
    </section>
  );
}
