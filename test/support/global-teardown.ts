import { rmSync } from 'node:fs';

export default async function globalTeardown(): Promise<void> {
  await (globalThis as { __mintlineEmbedded?: { stop(): Promise<void> } }).__mintlineEmbedded?.stop();
  const dataDir = (globalThis as { __mintlineEmbeddedDir?: string }).__mintlineEmbeddedDir;
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
}
