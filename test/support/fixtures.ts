import { randomBytes } from 'node:crypto';
import { client, Client } from './http';
import type { TestApp } from './test-app';

export const PASSWORD = 'correct horse battery staple';

export function uniqueEmail(label = 'user'): string {
  return `${label}-${randomBytes(5).toString('hex')}@example.com`;
}

export interface OrgFixture {
  orgId: string;
  adminId: string;
  adminEmail: string;
  adminToken: string;
  admin: Client;
  operator: Client;
}

/** An org made through the operator routes, with its first admin logged in. */
export async function createOrgWithAdmin(app: TestApp, name = 'Acme', parentOrgId?: string): Promise<OrgFixture> {
  const operator = client(app.url, app.operatorToken);
  const org = await operator.post('/api/orgs', parentOrgId ? { name, parentOrgId } : { name });
  if (org.status !== 201) throw new Error(`org create failed: ${org.status} ${org.text}`);
  const adminEmail = uniqueEmail('admin');
  const admin = await operator.post(`/api/orgs/${org.body.id}/users`, { email: adminEmail, password: PASSWORD, role: 'admin' });
  if (admin.status !== 201) throw new Error(`admin create failed: ${admin.status} ${admin.text}`);
  const adminToken = await login(app, adminEmail);
  return { orgId: org.body.id, adminId: admin.body.id, adminEmail, adminToken, admin: client(app.url, adminToken), operator };
}

export async function login(app: TestApp, email: string, password = PASSWORD): Promise<string> {
  const response = await client(app.url).post('/api/auth/login', { email, password });
  if (response.status !== 200) throw new Error(`login failed: ${response.status} ${response.text}`);
  return response.body.accessToken;
}

/** A user of the fixture's org with this role, logged in. */
export async function createUser(app: TestApp, org: OrgFixture, role: 'admin' | 'agent' | 'auditor') {
  const email = uniqueEmail(role);
  const created = await org.admin.post('/api/users', { email, password: PASSWORD, role });
  if (created.status !== 201) throw new Error(`user create failed: ${created.status} ${created.text}`);
  const token = await login(app, email);
  return { id: created.body.id as string, email, token, client: client(app.url, token) };
}
