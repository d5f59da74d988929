import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from '@mintline/common/errors/api-error';
import { sendError } from '@mintline/common/errors/error-envelope.filter';

/**
 * The console's page may run only its own bundled script and talk only to this origin: no inline script
 * or style, no plugin, no framing (clickjacking), no form posting elsewhere, and no other origin to
 * send a token to. Chart.js draws on a canvas and styles through the CSSOM, which style-src allows.
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "object-src 'none'",
].join('; ');

const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': CONSOLE_CSP,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'permissions-policy': 'camera=(), microphone=(), geolocation=(), payment=()',
};

/** Hashed file names Vite writes under assets/; nothing else is served from the folder. */
const ASSET = /^assets\/[A-Za-z0-9_.-]+\.(js|css|svg|png|woff2?)$/;

/** Where `npm run build` writes the console (scripts/build-console.js): dist/console at the repository's root. */
export function defaultConsoleDir(): string {
  let dir = __dirname;
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return join(dir, 'dist', 'console');
}

/**
 * GET /console and every path under /console/ answer the console's page (its client-side routes survive
 * a reload); /console/assets/* its bundled files. Plain Fastify routes outside Nest's router, so the
 * access guard never sees them: the page is public and holds no data, every API call it makes carries
 * the signed-in user's token. /api/* is Nest's and never reaches these routes.
 */
export async function registerConsoleRoutes(app: NestFastifyApplication, root = defaultConsoleDir()): Promise<void> {
  const indexFile = join(root, 'index.html');
  await app.register(fastifyStatic, { root, serve: false });
  const fastify = app.getHttpAdapter().getInstance();

  const page = (request: FastifyRequest, reply: FastifyReply) => {
    reply.headers(SECURITY_HEADERS);
    if (!existsSync(indexFile)) {
      sendError(reply, request, ApiError.notFound('The console is not built: run npm run build', 'CONSOLE_NOT_BUILT'));
      return reply;
    }
    // Read per request (a few KiB): a rebuild is served without a restart.
    return reply.header('cache-control', 'no-store').type('text/html; charset=utf-8').send(readFileSync(indexFile));
  };

  fastify.get('/console', page);
  fastify.get('/console/*', (request: FastifyRequest<{ Params: { '*': string } }>, reply: FastifyReply) => {
    const path = request.params['*'];
    if (path.startsWith('assets/')) {
      reply.headers(SECURITY_HEADERS);
      if (!ASSET.test(path) || !existsSync(join(root, path))) {
        sendError(reply, request, ApiError.notFound());
        return reply;
      }
      // Hashed names: a file never changes under its name.
      return reply.sendFile(path, { maxAge: 365 * 24 * 3600 * 1000, immutable: true });
    }
    return page(request, reply);
  });
}
