import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { AppConfig } from '@mintline/common/config';
import { ApiError } from '@mintline/common/errors/api-error';
import { createLogger } from '@mintline/common/logging/logger';
import { verifyExportFile } from './verify-export.command';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const USAGE = `Usage: npm run cli -- <command> [options]

Commands:
  migrate                              apply pending database migrations
  bootstrap --org NAME --email EMAIL   create an org and its first admin; prints a one-time password
  keys:rotate                          re-encrypt every stored credential under the primary MASTER_KEYS key
  audit:verify [--org ID]              walk the mint audit hash chain of one org (or all); exit 1 if broken
  audit:prune --before YYYY-MM         drop whole monthly audit partitions before that month, keeping
                                       an anchor so the rest still verifies
  audit:sign-head --org ID --seq SEQ --hash HEX
                                       after investigating a withheld (unsigned) chain head, sign it with
                                       the primary AUDIT_SIGNING_KEYS key, only if it is still the org's
                                       head and the chain up to it verifies; instances then sign again
  audit:verify-export FILE --public-keys KEYS
                                       verify an export made with ?format=ndjson&checkpoints=true offline
                                       (no database): KEYS holds what GET /api/audit/public-keys answers;
                                       exit 1 on any break

The others use DATABASE_URL, or the embedded PostgreSQL under .data/ when it is unset (as the server does).`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === 'help' || command === '--help') {
    console.log(USAGE);
    return command ? 0 : 2;
  }
  if (command === 'audit:verify-export') {
    // Offline: no configuration, no database, only the two files.
    const { values, positionals } = parseArgs({ args: rest, options: { 'public-keys': { type: 'string' } }, allowPositionals: true, strict: true });
    if (positionals.length !== 1 || !values['public-keys']) {
      console.error('audit:verify-export needs FILE and --public-keys FILE');
      return 2;
    }
    const { ok, report } = await verifyExportFile(positionals[0], values['public-keys']);
    for (const line of report) console.log(line);
    return ok ? 0 : 1;
  }
  // Loaded only for the commands that use the database (they bring the whole service with them).
  let headArgs: { orgId: string; seq: number; hash: string } | undefined;
  if (command === 'audit:sign-head') {
    // Checked before the database is opened: a usage error changes nothing.
    let values: { org?: string; seq?: string; hash?: string } = {};
    try {
      values = parseArgs({ args: rest, options: { org: { type: 'string' }, seq: { type: 'string' }, hash: { type: 'string' } }, strict: true }).values;
    } catch (error) {
      console.error((error as Error).message);
    }
    const hash = values.hash?.toLowerCase();
    if (
      !values.org ||
      !UUID.test(values.org) ||
      !values.seq ||
      !/^[1-9]\d*$/.test(values.seq) ||
      !Number.isSafeInteger(Number(values.seq)) ||
      !hash ||
      !/^[0-9a-f]{64}$/.test(hash)
    ) {
      console.error('audit:sign-head needs --org ORG_ID (a UUID), --seq SEQ (a positive integer) and --hash HEX (64 hex characters): the head to sign');
      return 2;
    }
    headArgs = { orgId: values.org.toLowerCase(), seq: Number(values.seq), hash };
  }
  const [{ pruneAudit, verifyAudit }, { bootstrap }, { rotateKeys }, { signHead }, { migrate, openDatabase }] = await Promise.all([
    import('./audit.commands'),
    import('./bootstrap.command'),
    import('./keys.command'),
    import('./sign-head.command'),
    import('./database'),
  ]);
  const config = AppConfig.fromEnv();
  const logger = createLogger(process.env.LOG_LEVEL || 'warn', process.stderr as never);
  const database = await openDatabase(config, logger);
  try {
    const applied = await migrate(database.url);
    switch (command) {
      case 'migrate':
        console.log(applied.length ? `Applied: ${applied.join(', ')}` : 'The database is up to date.');
        return 0;
      case 'bootstrap': {
        const { values } = parseArgs({ args: rest, options: { org: { type: 'string' }, email: { type: 'string' } }, strict: true });
        if (!values.org || !values.email) {
          console.error('bootstrap needs --org NAME and --email EMAIL');
          return 2;
        }
        const result = await bootstrap(config, logger, database.url, values.org, values.email);
        console.log(JSON.stringify({ orgId: result.orgId, userId: result.userId, email: result.email }, null, 2));
        console.log(`\nOne-time password for ${result.email} (shown only now; change it after logging in):\n${result.password}`);
        return 0;
      }
      case 'keys:rotate': {
        const result = await rotateKeys(config, logger, database.url);
        console.log(JSON.stringify(result, null, 2));
        return 0;
      }
      case 'audit:verify': {
        const { values } = parseArgs({ args: rest, options: { org: { type: 'string' } }, strict: true });
        const results = await verifyAudit(config, logger, database.url, values.org);
        for (const result of results) console.log(JSON.stringify(result));
        if (results.length === 0) console.log('No audit chains yet.');
        return results.every((result) => result.ok) ? 0 : 1;
      }
      case 'audit:prune': {
        const { values } = parseArgs({ args: rest, options: { before: { type: 'string' } }, strict: true });
        if (!values.before) {
          console.error('audit:prune needs --before YYYY-MM');
          return 2;
        }
        const result = await pruneAudit(config, logger, database.url, values.before);
        console.log(JSON.stringify(result, null, 2));
        return 0;
      }
      case 'audit:sign-head': {
        const { orgId, seq, hash } = headArgs!;
        const signed = await signHead(config, logger, database.url, orgId, seq, hash);
        console.log(JSON.stringify(signed, null, 2));
        console.log(`\nSigned entry ${signed.seq} of org ${signed.orgId} with key "${signed.keyId}"; recorded as audit.head_vouched.`);
        return 0;
      }
      default:
        console.error(`Unknown command "${command}"\n\n${USAGE}`);
        return 2;
    }
  } finally {
    await database.embedded?.stop();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    const message = error instanceof ApiError ? `${error.code}: ${error.message}` : error instanceof Error ? error.message : String(error);
    console.error(`Failed: ${message}`);
    process.exit(1);
  },
);
