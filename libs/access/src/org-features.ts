export type OrgFeature = 'webrtc';

/**
 * Whether an org has a feature switched on, as the access guard asks it for routes marked with
 * `@RequireFeature`. Declared here and provided by tenancy (which owns the org's settings) under
 * ORG_FEATURES, so that neither the guard nor this kernel depends on tenancy.
 */
export interface OrgFeatures {
  isEnabled(orgId: string, feature: OrgFeature): Promise<boolean>;
}

export const ORG_FEATURES = Symbol('ORG_FEATURES');
