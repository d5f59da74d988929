import { http } from './http';
import type { TestApp } from './test-app';

/**
 * An audit log that refuses writes, made with a real PostgreSQL trigger (run as the database owner, so
 * the service's own role can neither see nor undo it): every INSERT into `mint_audit`, or every UPDATE
 * of `audit_chain_heads`, raises. The service must then hand out nothing (fail-closed).
 */
export type AuditRefusal = { table: 'mint_audit'; operation: 'INSERT' } | { table: 'audit_chain_heads'; operation: 'UPDATE' };

const TRIGGER = 'mint_audit_refuse';

export async function refuseAuditWrites(app: TestApp, refusal: AuditRefusal = { table: 'mint_audit', operation: 'INSERT' }): Promise<void> {
  await app.db.query(`CREATE OR REPLACE FUNCTION ${TRIGGER}() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION '% refuses writes (test)', TG_TABLE_NAME; END $$`);
  await app.db.query(`CREATE TRIGGER ${TRIGGER} BEFORE ${refusal.operation} ON ${refusal.table} FOR EACH ROW EXECUTE FUNCTION ${TRIGGER}()`);
}

/** Takes the refusal away again (harmless when there is none). */
export async function restoreAuditWrites(app: TestApp): Promise<void> {
  await app.db.query(`DROP TRIGGER IF EXISTS ${TRIGGER} ON mint_audit`);
  await app.db.query(`DROP TRIGGER IF EXISTS ${TRIGGER} ON audit_chain_heads`);
  await app.db.query(`DROP FUNCTION IF EXISTS ${TRIGGER}()`);
}

/** The org's mint audit entries, counted as the database owner (no row-level security in the way). */
export async function mintAuditCount(app: TestApp, orgId: string): Promise<number> {
  const [row] = await app.db.query<{ n: string }>('SELECT count(*)::text AS n FROM mint_audit WHERE org_id = $1', [orgId]);
  return Number(row.n);
}

/** `mintline_mints_total` from GET /metrics, per `provider/outcome`. */
export async function mintMetrics(app: TestApp): Promise<Record<string, number>> {
  const response = await http(app.url, 'GET', '/metrics');
  if (response.status !== 200) throw new Error(`GET /metrics: ${response.status}`);
  const counts: Record<string, number> = {};
  for (const line of response.text.split('\n')) {
    const match = /^mintline_mints_total\{(.*)\} (\S+)$/.exec(line);
    if (!match) continue;
    const labels = Object.fromEntries([...match[1].matchAll(/(\w+)="([^"]*)"/g)].map((label) => [label[1], label[2]]));
    counts[`${labels.provider}/${labels.outcome}`] = Number(match[2]);
  }
  return counts;
}

/** The org's chain numbers 1..n with no gap, read as the database owner. */
export async function chainSeqs(app: TestApp, orgId: string): Promise<number[]> {
  const rows = await app.db.query<{ seq: string }>('SELECT seq::text AS seq FROM mint_audit WHERE org_id = $1 ORDER BY mint_audit.seq', [orgId]);
  return rows.map((row) => Number(row.seq));
}
