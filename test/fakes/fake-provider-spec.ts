import { ApiError } from '@mintline/common/errors/api-error';
import { ProviderHttpClient } from '@mintline/providers/http/provider-http.client';
import { providerTestConfig } from './provider-test-config';
import type { FakeServer } from './fake-http-server';

/**
 * A provider client spec's fake server and the ProviderHttpClient that talks to it: started once for the file,
 * the fake's recorded requests and injected failures forgotten before each test (this beforeEach is registered
 * before the spec's own, so that one may configure the fresh fake further), both closed after the last test.
 * `use` receives them once started, for the spec's own variables.
 */
export function withFakeProvider<F extends FakeServer>(start: () => Promise<F>, use: (fake: F, http: ProviderHttpClient) => void): void {
  let fake: F;
  let http: ProviderHttpClient;

  beforeAll(async () => {
    fake = await start();
    http = new ProviderHttpClient(providerTestConfig());
    use(fake, http);
  });

  beforeEach(() => fake.reset());

  afterAll(async () => {
    await http.close();
    await fake.close();
  });
}

/** The ApiError a call rejected with; fails the test when it resolved or threw something else. */
export async function apiError(promise: Promise<unknown>): Promise<ApiError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ApiError);
  return error as ApiError;
}
