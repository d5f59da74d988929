import { useEffect, useRef } from 'react';
import { BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, Tooltip } from 'chart.js';
import { api, must, type Schemas } from '../api/client';
import type { paths } from '../api/openapi';
import { parameterEnum } from '../api/openapi-runtime';
import { useFilters } from '../filters';
import { Empty, ErrorBox, Field, formatTime, Loading, Select, TableWrap, useLoad, utcInputToIso } from '../ui';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Legend, Tooltip);

type Stats = Schemas['MintStatsView'];
type Query = NonNullable<paths['/api/audit/mints/stats']['get']['parameters']['query']>;
type Bucket = Stats['bucket'];
const BUCKETS = ['minute', 'hour', 'day'] as const satisfies readonly Bucket[];
const BUCKET_MS: Record<Bucket, number> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };
const OUTCOMES = ['issued', 'denied', 'failed'] as const;
// Outcomes keep their meaning across providers: issued in blues and greens, denied in ambers, failed in reds.
const SHADES: Record<(typeof OUTCOMES)[number], string[]> = {
  issued: ['#1d4ed8', '#047857', '#0e7490', '#4338ca', '#15803d', '#1e40af', '#0f766e', '#3730a3', '#166534'],
  denied: ['#b45309', '#a16207', '#c2410c', '#92400e', '#854d0e', '#9a3412', '#78350f', '#713f12', '#7c2d12'],
  failed: ['#b91c1c', '#be123c', '#9f1239', '#991b1b', '#881337', '#7f1d1d', '#e11d48', '#dc2626', '#9d174d'],
};

interface Form {
  bucket: Bucket;
  from: string;
  to: string;
  provider: string;
}

function toQuery(form: Form): Query {
  const from = utcInputToIso(form.from);
  const to = utcInputToIso(form.to);
  return { bucket: form.bucket, ...(from ? { from } : {}), ...(to ? { to } : {}), ...(form.provider ? { provider: form.provider as Query['provider'] } : {}) };
}

/** Every bucket of the answered range, so the time axis keeps its scale where there were no mints. */
function bucketStarts(stats: Stats): number[] {
  const size = BUCKET_MS[stats.bucket];
  const first = Math.floor(Date.parse(stats.from) / size) * size;
  const starts: number[] = [];
  for (let at = first; at < Date.parse(stats.to); at += size) starts.push(at);
  return starts;
}

function label(at: number, bucket: Bucket): string {
  const iso = new Date(at).toISOString();
  return bucket === 'day' ? iso.slice(0, 10) : iso.slice(5, 16).replace('T', ' ');
}

export function ActivityView() {
  const providers = useLoad(() => parameterEnum('/api/audit/mints/stats', 'provider'), []);
  const { draft, setDraft, applied, set, submit } = useFilters<Form>({ bucket: 'hour', from: '', to: '', provider: '' });
  const stats = useLoad(() => must(api.GET('/api/audit/mints/stats', { params: { query: toQuery(applied) } })), [applied]);
  const total = (stats.data?.series ?? []).reduce((sum, point) => sum + point.issued + point.denied + point.failed, 0);
  return (
    <>
      <form onSubmit={submit} className="grid-form filters" aria-label="Chart range" noValidate>
        <Select
          label="Bucket"
          name="bucket"
          options={BUCKETS}
          value={draft.bucket}
          onChange={(event) => setDraft({ ...draft, bucket: BUCKETS.find((bucket) => bucket === event.target.value) ?? 'hour' })}
          error={stats.error}
        />
        <Field label="From (UTC)" name="from" type="datetime-local" hint="Default: 24 hours before To" value={draft.from} onChange={set('from')} error={stats.error} />
        <Field label="To (UTC)" name="to" type="datetime-local" hint="Default: now" value={draft.to} onChange={set('to')} error={stats.error} />
        <Select
          label="Provider"
          name="provider"
          options={[{ value: '', label: 'all' }, ...(providers.data ?? [])]}
          value={draft.provider}
          onChange={set('provider')}
          error={stats.error}
        />
        <div className="actions">
          <button type="submit">Show</button>
        </div>
      </form>
      <ErrorBox error={stats.error} fields={['bucket', 'from', 'to', 'provider']} />
      {stats.loading && <Loading what="mint counts" />}
      {stats.data && (
        <p className="muted">
          {total} mint attempts from {formatTime(stats.data.from)} to {formatTime(stats.data.to)}, per {stats.data.bucket}.
        </p>
      )}
      {stats.data && stats.data.series.length === 0 && <Empty>No mints in this range.</Empty>}
      {stats.data && stats.data.series.length > 0 && <StatsChart stats={stats.data} />}
      {stats.data && stats.data.series.length > 0 && (
        <details>
          <summary>The counts as a table</summary>
          <TableWrap label="Mint counts">
            <thead>
              <tr>
                <th scope="col">Bucket</th>
                <th scope="col">Provider</th>
                <th scope="col">Issued</th>
                <th scope="col">Denied</th>
                <th scope="col">Failed</th>
              </tr>
            </thead>
            <tbody>
              {stats.data.series.map((point) => (
                <tr key={`${point.at}-${point.provider}`}>
                  <td>{formatTime(point.at)}</td>
                  <td>{point.provider}</td>
                  <td>{point.issued}</td>
                  <td>{point.denied}</td>
                  <td>{point.failed}</td>
                </tr>
              ))}
            </tbody>
          </TableWrap>
        </details>
      )}
    </>
  );
}

function StatsChart({ stats }: { stats: Stats }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    if (!canvas.current) return;
    const starts = bucketStarts(stats);
    const index = new Map(starts.map((at, position) => [at, position]));
    const providers = [...new Set(stats.series.map((point) => point.provider))].sort();
    const datasets = providers.flatMap((provider, providerIndex) =>
      OUTCOMES.filter((outcome) => stats.series.some((point) => point.provider === provider && point[outcome] > 0)).map((outcome) => {
        const data = starts.map(() => 0);
        for (const point of stats.series) {
          const position = index.get(Date.parse(point.at));
          if (point.provider === provider && position !== undefined) data[position] = point[outcome];
        }
        const color = SHADES[outcome][providerIndex % SHADES[outcome].length];
        return { label: `${provider} ${outcome}`, data, backgroundColor: color, borderColor: color, stack: 'mints' };
      }),
    );
    const chart = new Chart(canvas.current, {
      type: 'bar',
      data: { labels: starts.map((at) => label(at, stats.bucket)), datasets },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } },
        plugins: { legend: { position: 'bottom' } },
      },
    });
    return () => chart.destroy();
  }, [stats]);
  const summary = stats.series.map((point) => `${point.provider} ${formatTime(point.at)}: ${point.issued} issued, ${point.denied} denied, ${point.failed} failed`).join('; ');
  return (
    <figure className="chart">
      <div className="chart-box">
        <canvas ref={canvas} role="img" aria-label={`Mints per ${stats.bucket} by provider and outcome. ${summary}`} />
      </div>
      <figcaption>Mints per {stats.bucket}, stacked by provider and outcome (UTC).</figcaption>
    </figure>
  );
}
