import { createReadStream, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { AuditSigningKeys } from '@mintline/audit/checkpoints/audit-signing-keys';
import { ExportVerification, verifyExport } from '@mintline/audit/checkpoints/export-verifier';

/**
 * `audit:verify-export FILE --public-keys FILE`: checks an export made with `checkpoints=true` against the
 * published public keys, with no database and no service: only the two files. Answers the lines to print.
 */
export async function verifyExportFile(exportFile: string, publicKeysFile: string): Promise<{ ok: boolean; report: string[] }> {
  let published: unknown;
  try {
    published = JSON.parse(readFileSync(publicKeysFile, 'utf8'));
  } catch (error) {
    throw new Error(`cannot read the public keys from ${publicKeysFile}: ${(error as Error).message}`);
  }
  const publicKeys = AuditSigningKeys.publicKeysFrom(published);
  const lines = createInterface({ input: createReadStream(exportFile, { encoding: 'utf8' }), crlfDelay: Infinity });
  const result = await verifyExport(lines, publicKeys);
  return { ok: result.ok, report: describe(exportFile, [...publicKeys.keys()], result) };
}

function describe(file: string, trusted: string[], result: ExportVerification): string[] {
  const report = [`Export: ${file}${result.orgId ? ` (org ${result.orgId})` : ''}`, `Trusted keys: ${trusted.length ? trusted.join(', ') : 'none'}`];
  if (result.entries > 0) {
    report.push(
      `Entries: ${result.entries} (seq ${result.firstSeq}..${result.lastSeq}), each hash recomputed from its content and linked to the entry before it` +
        (result.firstSeq === 1 ? ' down to the genesis' : `; entry ${result.firstSeq} links to entry ${result.firstSeq! - 1}, which is not in this file`),
    );
  } else {
    report.push('Entries: none');
  }
  report.push(
    `Checkpoints: ${result.checkpoints} valid signatures${result.keyIds.length ? ` (keys ${result.keyIds.join(', ')})` : ''}, each on the entry it follows`,
    result.signedThroughSeq === null
      ? `Signed through: nothing — no checkpoint covers these entries; ${result.unsignedTail} unsigned`
      : `Signed through: entry ${result.signedThroughSeq} and every entry before it in the file; ${result.unsignedTail} newer entries unsigned`,
  );
  report.push(result.ok ? 'Result: OK' : `Result: BROKEN at line ${result.problem!.line}: ${result.problem!.message}`);
  return report;
}
