import 'reflect-metadata';
import { AppConfig } from '@mintline/common/config';
import { applyHeapGrowth } from '@mintline/common/runtime/heap-growth';

async function main(): Promise<void> {
  const config = AppConfig.fromEnv();
  // First, before the service's modules are loaded (loading them is the most garbage the process makes
  // at once): V8 applies the setting from its next full collection on, so start-up already runs under it.
  const heapGrowingPercent = applyHeapGrowth(config.heapGrowingPercent);
  const { serve } = await import('./serve');
  await serve(config, heapGrowingPercent);
}

main().catch((error: unknown) => {
  // Configuration errors name what is missing, never a secret value.
  console.error(JSON.stringify({ level: 'fatal', msg: 'Mintline failed to start', err: error instanceof Error ? error.message : String(error) }));
  process.exit(1);
});
