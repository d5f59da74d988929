import { chainHash, ChainedContent } from '../../libs/audit/src/mints/audit-chain';
import { expectStatus } from './assertions';
import type { Client } from './http';

/**
 * Every item of a paged audit list (`/api/audit/mints`, `/api/audit/events`, with any query), `limit` at a
 * time, checking the paging as it goes: every page 200 and at most `limit` long, a full page before each
 * cursor, no cursor twice, and an end within a bound.
 */
export async function allAuditPages(reader: Client, path: string, limit = 500): Promise<any[]> {
  const items: any[] = [];
  const seen = new Set<string>();
  let cursor: string | null = null;
  const joiner = path.endsWith('?') ? '' : path.includes('?') ? '&' : '?';
  for (let page = 0; page < 2000; page += 1) {
    const url: string = `${path}${joiner}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const response = await reader.get(url);
    expectStatus(response, 200);
    expect(response.body.items.length).toBeLessThanOrEqual(limit);
    items.push(...response.body.items);
    cursor = response.body.nextCursor;
    if (!cursor) return items;
    expect(response.body.items).toHaveLength(limit);
    expect(seen.has(cursor)).toBe(false);
    seen.add(cursor);
  }
  throw new Error('the list did not end');
}

/**
 * Writes an entry into mint_audit as someone with database access would (the tests forge with it): the
 * project's own chain hash over `content`, linked to `prevHash`. Moving the chain head is the caller's.
 * Answers the entry's hash.
 */
export async function insertChainedEntry(db: { query(sql: string, params?: unknown[]): Promise<unknown> }, content: ChainedContent, prevHash: Buffer): Promise<Buffer> {
  const hash = chainHash(prevHash, content);
  await db.query(
    `INSERT INTO mint_audit (id, org_id, seq, at, provider, action, actor_kind, actor_id, subject_user_id, target, outcome, code,
                             token_fingerprint, expires_at, ip, user_agent, request_id, prev_hash, hash)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)`,
    [
      content.id,
      content.orgId,
      content.seq,
      content.at,
      content.provider,
      content.action,
      content.actorKind,
      content.actorId,
      content.subjectUserId,
      content.target,
      content.outcome,
      content.code,
      content.tokenFingerprint,
      content.expiresAt,
      content.ip,
      content.userAgent,
      content.requestId,
      prevHash,
      hash,
    ],
  );
  return hash;
}
