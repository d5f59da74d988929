import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { AppConfig } from '@mintline/common/config';
import { OrgsService } from '@mintline/tenancy/orgs/orgs.service';
import { UsersService } from '@mintline/tenancy/users/users.service';
import { withContext } from './app-context';

export interface BootstrapResult {
  orgId: string;
  userId: string;
  email: string;
  password: string;
}

/**
 * Creates an org and its first admin with a generated password, for installations that do not use
 * OPERATOR_TOKEN. The password is printed once and stored only as its argon2id hash.
 */
export function bootstrap(config: AppConfig, logger: Logger, databaseUrl: string, orgName: string, email: string): Promise<BootstrapResult> {
  return withContext(config, logger, databaseUrl, async (context) => {
    const operator = { kind: 'operator', orgId: null, scopes: [] } as const;
    const requestId = `cli-${randomBytes(6).toString('hex')}`;
    const org = await context.get(OrgsService).create({ name: orgName }, { kind: 'operator', id: null }, requestId);
    const password = randomBytes(18).toString('base64url');
    const user = await context.get(UsersService).create(org.id, { email: email.trim().toLowerCase(), password, role: 'admin' }, operator, requestId);
    return { orgId: org.id, userId: user.id, email: user.email, password };
  });
}
