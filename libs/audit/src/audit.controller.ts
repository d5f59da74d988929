import { Controller, Get, Header, Query, Res } from '@nestjs/common';
import { ApiBadRequestResponse, ApiExtraModels, ApiOkResponse, ApiOperation, ApiProduces, ApiServiceUnavailableResponse, ApiTags, getSchemaPath } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { ApiErrorResponse } from '@mintline/common/openapi/api-error-response';
import { CurrentPrincipal, RequireScopes } from '@mintline/access/access.decorators';
import type { TenantPrincipal } from '@mintline/access/principal';
import { AuditSigningKeys, MAX_AUDIT_SIGNING_KEYS } from './checkpoints/audit-signing-keys';
import { ConfigEventPageView, ConfigEventQueryDto } from './events/config-event.dto';
import { ConfigEventsQuery } from './events/config-events.query';
import { AuditVerifier, ChainVerification } from './mints/audit-verifier.service';
import { AuditPublicKeyView, ChainVerificationView, MintAuditExportQueryDto, MintAuditPageView, MintAuditQueryDto } from './mints/mint-audit.dto';
import { MintAuditExport } from './mints/mint-audit.export';
import { MintAuditPageJson, MintAuditQuery } from './mints/mint-audit.query';
import { MintStatsQueryDto, MintStatsView } from './stats/mint-stats.dto';
import { MintStatsQuery } from './stats/mint-stats.query';
import { MAX_STATS_BUCKETS } from './stats/mint-stats.window';

@ApiTags('Audit')
@ApiExtraModels(AuditPublicKeyView)
@Controller('audit')
@RequireScopes('READ_AUDIT')
export class AuditController {
  constructor(
    private readonly mints: MintAuditQuery,
    private readonly exporter: MintAuditExport,
    private readonly verifier: AuditVerifier,
    private readonly events: ConfigEventsQuery,
    private readonly signingKeys: AuditSigningKeys,
    private readonly stats: MintStatsQuery,
  ) {}

  @Get('mints')
  @ApiOperation({ summary: 'Every mint attempt of your org, newest first: issued, denied and failed' })
  @ApiOkResponse({ type: MintAuditPageView })
  @ApiBadRequestResponse({ description: 'VALIDATION_FAILED, also for a cursor this list did not give out' })
  // The page comes as its JSON text, rendered by the database (see MintAuditQuery).
  @Header('content-type', 'application/json; charset=utf-8')
  mintsPage(@CurrentPrincipal() principal: TenantPrincipal, @Query() query: MintAuditQueryDto): Promise<MintAuditPageJson> {
    const { limit, cursor, ...filter } = query;
    return this.mints.page(principal.orgId, filter, limit ?? 100, cursor);
  }

  @Get('mints/stats')
  @ApiOperation({
    summary:
      'Mints of your org over time: per UTC-aligned bucket (minute, hour or day) and provider, how many were issued, denied and failed; buckets without mints are left out',
  })
  @ApiOkResponse({ type: MintStatsView })
  @ApiErrorResponse(400, `VALIDATION_FAILED: a bad filter, from not before to, or a range of more than ${MAX_STATS_BUCKETS} buckets (field bucket)`)
  mintStats(@CurrentPrincipal() principal: TenantPrincipal, @Query() query: MintStatsQueryDto): Promise<MintStatsView> {
    return this.stats.stats(principal.orgId, query);
  }

  @Get('mints/export')
  @ApiOperation({
    summary: 'Stream every matching entry, newest first, as NDJSON or CSV (with a header row); with checkpoints=true, NDJSON carrying the chain and its signed checkpoints',
  })
  @ApiProduces('application/x-ndjson', 'text/csv')
  @ApiOkResponse({
    description:
      'One entry per line: a JSON MintAuditEntry per line (format=ndjson; with checkpoints=true also a checkpoint line after each entry a checkpoint signed) or CSV with a header row (format=csv)',
    schema: { type: 'string' },
  })
  @ApiErrorResponse(400, 'VALIDATION_FAILED: a bad filter, or checkpoints=true with format=csv or with a filter other than from/to')
  exportMints(@CurrentPrincipal() principal: TenantPrincipal, @Query() query: MintAuditExportQueryDto, @Res() reply: FastifyReply): void {
    const { format, checkpoints, ...filter } = query;
    const body = this.exporter.stream(principal.orgId, filter, format, checkpoints === true);
    const stamp = new Date().toISOString().slice(0, 10);
    void reply
      .header('content-type', format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8')
      .header('content-disposition', `attachment; filename="mintline-mints-${stamp}.${format}"`)
      .header('cache-control', 'no-store')
      .send(body);
  }

  @Get('verify')
  @ApiOperation({
    summary:
      "Walk your org's hash chain and check its signed checkpoints: an edited or deleted entry makes ok false, also one rewritten with database access unless it lies after the newest checkpoint (counted in unsignedTail)",
  })
  @ApiOkResponse({ type: ChainVerificationView })
  @ApiServiceUnavailableResponse({ description: 'UNAVAILABLE: the database cannot be reached' })
  verify(@CurrentPrincipal() principal: TenantPrincipal): Promise<ChainVerification> {
    return this.verifier.verify(principal.orgId);
  }

  @Get('public-keys')
  @ApiOperation({ summary: 'The Ed25519 public keys that sign and signed audit checkpoints (the signing key first), for verifying exports offline' })
  @ApiOkResponse({ schema: { type: 'array', maxItems: MAX_AUDIT_SIGNING_KEYS, items: { $ref: getSchemaPath(AuditPublicKeyView) } } })
  publicKeys(): AuditPublicKeyView[] {
    return this.signingKeys.views();
  }

  @Get('events')
  @ApiOperation({ summary: 'Configuration changes of your org (credentials, users, API keys, caller IDs, endpoints, org settings)' })
  @ApiOkResponse({ type: ConfigEventPageView })
  eventsPage(@CurrentPrincipal() principal: TenantPrincipal, @Query() query: ConfigEventQueryDto): Promise<ConfigEventPageView> {
    return this.events.page(principal.orgId, query);
  }
}
