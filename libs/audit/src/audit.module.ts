import { Module } from '@nestjs/common';
import { AppConfig } from '@mintline/common/config';
import { AuditController } from './audit.controller';
import { AuditCheckpointWriter } from './checkpoints/audit-checkpoint.writer';
import { AuditSigningKeys } from './checkpoints/audit-signing-keys';
import { CheckpointCovers } from './checkpoints/checkpoint-covers';
import { ConfigEventsQuery } from './events/config-events.query';
import { ConfigEventsService } from './events/config-events.service';
import { AuditVerifier } from './mints/audit-verifier.service';
import { MintAuditExport } from './mints/mint-audit.export';
import { MintAuditQuery } from './mints/mint-audit.query';
import { MintAuditWriter } from './mints/mint-audit.writer';
import { CursorCodec } from './paging/cursor-codec';
import { MintStatsQuery } from './stats/mint-stats.query';
import { AuditPartitionsService } from './retention/audit-partitions.service';

@Module({
  controllers: [AuditController],
  providers: [
    AuditCheckpointWriter,
    AuditPartitionsService,
    { provide: AuditSigningKeys, inject: [AppConfig], useFactory: (config: AppConfig) => AuditSigningKeys.parse(config.auditSigningKeys) },
    AuditVerifier,
    CheckpointCovers,
    ConfigEventsQuery,
    ConfigEventsService,
    CursorCodec,
    MintAuditExport,
    MintAuditQuery,
    MintAuditWriter,
    MintStatsQuery,
  ],
  exports: [AuditPartitionsService, AuditVerifier, ConfigEventsService, MintAuditWriter],
})
export class AuditModule {}
