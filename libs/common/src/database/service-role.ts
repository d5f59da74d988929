import { createHmac } from 'node:crypto';
import { Client } from 'pg';

/**
 * The role the service connects as. It owns nothing, cannot bypass row-level security, and gets only the
 * rights the migrations grant it (1763800004000-row-level-security creates it under this name).
 */
export const SERVICE_ROLE = 'mintline_app';

const AUTH_FAILED = new Set(['28P01', '28000']);

/**
 * The connection the service works through. Migrations and the CLI use the owner's DATABASE_URL; the
 * service itself connects as a role that owns no tables and cannot bypass row-level security:
 *
 * - DATABASE_APP_URL when it is set (production: a role made by the migrations, its password set by
 *   the operator with ALTER ROLE mintline_app PASSWORD ..., or any role with the same rights);
 * - otherwise the migrations' role `mintline_app` on the owner's server. When the owner's URL has a
 *   password, the role's password is derived from it (every instance derives the same one) and set by
 *   the owner if the server does not take it yet; without one, the server must let the role in as it
 *   lets the owner in (trust, peer or certificates).
 *
 * Either way the role is checked before the service starts, and a role that could see every org's
 * rows (a superuser, BYPASSRLS, or an owner of the tables) is refused.
 */
export async function serviceDatabaseUrl(ownerUrl: string, appUrl?: string): Promise<string> {
  const url = appUrl ?? (await derivedServiceUrl(ownerUrl));
  await assertServiceRole(url);
  return url;
}

async function derivedServiceUrl(ownerUrl: string): Promise<string> {
  const owner = new URL(ownerUrl);
  const password = owner.password ? createHmac('sha256', decodeURIComponent(owner.password)).update(`${SERVICE_ROLE} password`).digest('base64url') : '';
  const service = new URL(ownerUrl);
  service.username = SERVICE_ROLE;
  service.password = password;
  const url = service.toString();
  try {
    await withClient(url, async () => undefined);
  } catch (error) {
    if (!password || !AUTH_FAILED.has((error as { code?: string }).code ?? '')) throw error;
    await withClient(ownerUrl, (client) => client.query(`ALTER ROLE ${SERVICE_ROLE} PASSWORD '${password}'`));
  }
  return url;
}

async function assertServiceRole(url: string): Promise<void> {
  const [role] = await withClient(url, async (client) => {
    const result = await client.query<{ name: string; superuser: boolean; bypassrls: boolean; owned: number }>(
      `SELECT r.rolname AS name, r.rolsuper AS superuser, r.rolbypassrls AS bypassrls,
              (SELECT count(*) FROM pg_class c WHERE c.relowner = r.oid AND c.relnamespace = 'public'::regnamespace)::int AS owned
         FROM pg_roles r WHERE r.rolname = current_user`,
    );
    return result.rows;
  });
  if (role.superuser || role.bypassrls || role.owned > 0) {
    throw new Error(
      `The service's database role "${role.name}" ${role.superuser ? 'is a superuser' : role.bypassrls ? 'can bypass row-level security' : 'owns tables'}; ` +
        'it must be a role that owns no tables and cannot bypass row-level security (DATABASE_APP_URL, see README)',
    );
  }
}

async function withClient<T>(url: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}
