import { Injectable } from '@nestjs/common';
import type { OrgFeature, OrgFeatures } from '@mintline/access/org-features';
import { OrgSettingsService } from './org-settings.service';

/** The access guard's view of an org's feature switches (ORG_FEATURES), read from its cached settings. */
@Injectable()
export class OrgFeaturesService implements OrgFeatures {
  constructor(private readonly settings: OrgSettingsService) {}

  async isEnabled(orgId: string, feature: OrgFeature): Promise<boolean> {
    const settings = await this.settings.get(orgId);
    switch (feature) {
      case 'webrtc':
        return settings?.webrtcEnabled === true;
    }
  }
}
