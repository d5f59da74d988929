export default async function globalTeardown(): Promise<void> {
  await (globalThis as { __mintlineEmbedded?: { stop(): Promise<void> } }).__mintlineEmbedded?.stop();
}
