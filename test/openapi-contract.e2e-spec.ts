import { CheckedResponse, checkAgainstDocument } from './support/openapi-contract';
import { startTestApp, TestApp } from './support/test-app';

function answer(status: number, body: unknown, contentType = 'application/json; charset=utf-8'): CheckedResponse {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return { status, body, text, headers: new Headers({ 'content-type': contentType }) };
}

const envelope = { success: false, error: 'Route not found', code: 'NOT_FOUND', requestId: '2b1f6a3e-6a55-4a43-9d43-3a8f6bfb7d0e' };

/** The check every http() call goes through fails a route that drifts from the served document. */
describe('the OpenAPI contract check of e2e answers', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp();
  });

  afterAll(async () => {
    await app?.close();
  });

  it('accepts an answer the document describes', async () => {
    await expect(checkAgainstDocument(app.url, 'GET', '/health', answer(200, { status: 'ok' }))).resolves.toBeUndefined();
    await expect(
      checkAgainstDocument(
        app.url,
        'GET',
        '/api/users/not-a-uuid',
        answer(400, { ...envelope, code: 'VALIDATION_FAILED', details: [{ field: 'id', message: 'must be a UUID' }] }),
      ),
    ).resolves.toBeUndefined();
  });

  it('refuses a status the operation does not document', async () => {
    await expect(checkAgainstDocument(app.url, 'GET', '/health', answer(418, envelope))).rejects.toThrow(/status not documented for healthLive/);
  });

  it('refuses a field the schema does not declare, and a missing one', async () => {
    await expect(checkAgainstDocument(app.url, 'GET', '/health', answer(200, { status: 'ok', uptime: 3 }))).rejects.toThrow(/must NOT have additional properties/);
    await expect(checkAgainstDocument(app.url, 'GET', '/health/ready', answer(200, { status: 'ok' }))).rejects.toThrow(/must have required property 'database'/);
  });

  it('refuses an error that is not the envelope, and a media type the operation does not declare', async () => {
    await expect(checkAgainstDocument(app.url, 'GET', '/api/users', answer(401, { message: 'Unauthorized' }))).rejects.toThrow(/does not match the document/);
    await expect(checkAgainstDocument(app.url, 'GET', '/health', answer(200, 'ok', 'text/plain'))).rejects.toThrow(/text\/plain not documented/);
  });

  it('checks only the envelope on a path that matches no operation', async () => {
    await expect(checkAgainstDocument(app.url, 'GET', '/api/no-such-route', answer(404, envelope))).resolves.toBeUndefined();
    await expect(checkAgainstDocument(app.url, 'GET', '/api/no-such-route', answer(404, { statusCode: 404 }))).rejects.toThrow(/no operation/);
  });
});
