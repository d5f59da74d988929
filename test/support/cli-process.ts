import { entryPoint, EntryPoint, runEntryPoint } from './entry-point';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

let cli: EntryPoint | undefined;

/**
 * Runs `npm run cli -- <args>` (without the build step) as a child process and answers its exit code and
 * output; the entry point (dist/ when up to date, else the sources) is found once per test file.
 */
export async function runCli(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  if (!cli) {
    const found = entryPoint('cli');
    if ('skip' in found) throw new Error(`cannot run the CLI: ${found.skip}`);
    cli = found;
  }
  const result = await runEntryPoint(cli, args, env);
  if (result.code === null) throw new Error(`the CLI was killed by ${result.signal}: ${result.stderr}`);
  return { code: result.code, stdout: result.stdout, stderr: result.stderr };
}

/** Removes the entry point's transpile cache; call it in afterAll. */
export function cleanupCli(): void {
  cli?.cleanup();
  cli = undefined;
}
