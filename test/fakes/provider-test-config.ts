import { AppConfig, AppConfigValues } from '@mintline/common/config';

/** A complete AppConfig for provider tests; nothing here touches the environment or disk. */
export function providerTestConfig(overrides: Partial<AppConfigValues> = {}): AppConfig {
  return new AppConfig({
    port: 0,
    production: false,
    masterKeys: 'k1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=',
    jwtSecret: 'test-jwt-secret',
    auditSigningKeys: 'test-a1:MC4CAQAwBQYDK2VwBCIEIOyDaFXxeOYB3oJd15ZlnrHm1llKSvHP9BAbmzpVO8HQ',
    allowInsecureProviderUrls: true,
    sinchAuthUrl: 'https://auth.sinch.com/oauth2/token',
    sinchEstUrl: 'https://elastic-trunking.api.sinch.com',
    logLevel: 'silent',
    dataDir: '/nonexistent',
    embeddedPgPort: 0,
    headersTimeoutMs: 10_000,
    connectionsCheckIntervalMs: 1_000,
    requestTimeoutMs: 30_000,
    trustProxy: false,
    loginConcurrency: 4,
    heapGrowingPercent: 0,
    passwordHashConcurrency: 1,
    ...overrides,
  });
}
