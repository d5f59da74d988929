import { Module } from '@nestjs/common';
import { AuditModule } from '@mintline/audit/audit.module';
import { AppConfig } from '@mintline/common/config';
import { CredentialsController } from './credentials.controller';
import { CredentialsService } from './credentials.service';
import { EnvelopeCipher } from './envelope-cipher';
import { KeyRotationService } from './key-rotation.service';
import { parseMasterKeys } from './master-key-ring';

@Module({
  imports: [AuditModule],
  controllers: [CredentialsController],
  providers: [
    CredentialsService,
    KeyRotationService,
    { provide: EnvelopeCipher, inject: [AppConfig], useFactory: (config: AppConfig) => new EnvelopeCipher(parseMasterKeys(config.masterKeys)) },
  ],
  exports: [CredentialsService, EnvelopeCipher, KeyRotationService],
})
export class CredentialsModule {}
