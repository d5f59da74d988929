import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Server } from 'node:http';

/**
 * Graceful shutdown: stop accepting connections and let in-flight requests finish (so the audit
 * batches of in-flight mints commit), then run the shutdown hooks: the audit writer drains before the
 * database pools close. Keep-alive connections are closed as soon as they fall idle; a request that
 * arrives on one meanwhile is answered 503 with `Connection: close`.
 */
export async function shutDownGracefully(app: NestFastifyApplication): Promise<void> {
  const server = app.getHttpServer() as Server;
  const sweeper = setInterval(() => server.closeIdleConnections(), 50);
  try {
    await app.getHttpAdapter().getInstance().close();
  } finally {
    clearInterval(sweeper);
  }
  await app.close();
}
