import { Foundation1763800000000 } from './1763800000000-foundation';
import { CredentialsCallerIdsAudit1763800001000 } from './1763800001000-credentials-caller-ids-audit';
import { EndpointsCallTokens1763800002000 } from './1763800002000-endpoints-call-tokens';
import { CacheEpochs1763800003000 } from './1763800003000-cache-epochs';
import { RowLevelSecurity1763800004000 } from './1763800004000-row-level-security';
import { AuditCheckpoints1764160000000 } from './1764160000000-audit-checkpoints';
import { MoreProviders1764170000000 } from './1764170000000-more-providers';
import { TelnyxCredentials1764180000000 } from './1764180000000-telnyx-credentials';
import { TokenPolicies1764200000000 } from './1764200000000-token-policies';

/** Every migration, oldest first. A new migration is added here and nowhere else. */
export const MIGRATIONS = [
  Foundation1763800000000,
  CredentialsCallerIdsAudit1763800001000,
  EndpointsCallTokens1763800002000,
  CacheEpochs1763800003000,
  RowLevelSecurity1763800004000,
  AuditCheckpoints1764160000000,
  MoreProviders1764170000000,
  TelnyxCredentials1764180000000,
  TokenPolicies1764200000000,
];
