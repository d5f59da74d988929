import { setFlagsFromString } from 'node:v8';

const FLAG = '--heap-growing-percent';

/**
 * Sets how far V8 lets the old generation grow past its live size between full collections
 * (AppConfig.heapGrowingPercent; see DEFAULT_HEAP_GROWING_PERCENT for the measurements). V8 reads this
 * flag each time it sets the next collection's limit, so setting it at start, before the service
 * allocates much, takes effect from the first full collection on: a deployment need not add a flag
 * to its `node` command (NODE_OPTIONS does not accept this one). 0 leaves V8's own heuristic; a
 * `--heap-growing-percent` given on the command line wins over the environment.
 * Answers the percent in effect, undefined for V8's own.
 */
export function applyHeapGrowth(percent: number, execArgv: readonly string[] = process.execArgv): number | undefined {
  // V8 takes its flags with dashes or underscores alike.
  const given = execArgv.map((arg) => arg.replace(/_/g, '-')).find((arg) => arg.startsWith(`${FLAG}=`));
  if (given) return Number(given.slice(FLAG.length + 1)) || undefined;
  if (percent === 0) return undefined;
  setFlagsFromString(`${FLAG}=${percent}`);
  return percent;
}
