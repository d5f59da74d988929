import { Module } from '@nestjs/common';
import { ORG_FEATURES } from '@mintline/access/org-features';
import { AuditModule } from '@mintline/audit/audit.module';
import { CallerIdsController } from './caller-ids/caller-ids.controller';
import { CallerIdsService } from './caller-ids/caller-ids.service';
import { EndpointsController } from './endpoints/endpoints.controller';
import { EndpointsService } from './endpoints/endpoints.service';
import { OrgFeaturesService } from './orgs/org-features.service';
import { OrgsController } from './orgs/orgs.controller';
import { OrgSettingsService } from './orgs/org-settings.service';
import { OrgsService } from './orgs/orgs.service';
import { Passwords } from './users/passwords';
import { UsersController } from './users/users.controller';
import { UsersService } from './users/users.service';

@Module({
  imports: [AuditModule],
  controllers: [OrgsController, UsersController, CallerIdsController, EndpointsController],
  providers: [OrgsService, OrgSettingsService, Passwords, UsersService, CallerIdsService, EndpointsService, { provide: ORG_FEATURES, useClass: OrgFeaturesService }],
  exports: [OrgsService, OrgSettingsService, Passwords, UsersService, CallerIdsService, ORG_FEATURES],
})
export class TenancyModule {}
