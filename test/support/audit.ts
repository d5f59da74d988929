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
