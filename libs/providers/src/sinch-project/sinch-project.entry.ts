import { field, optionalField, secret } from '../registry/credential-field-rules';
import { defineProvider } from '../registry/provider-entry';
import { SinchProjectVerifier } from './sinch-project.verifier';

/** A Sinch project's access key: OAuth for the Elastic SIP Trunking API (caller IDs on the org's trunk). It mints nothing a client holds. */
export const SINCH_PROJECT = defineProvider({
  credentials: 'sinch-project',
  title: 'Sinch project (Elastic SIP Trunking)',
  fields: [field('projectId'), field('keyId'), secret('keySecret'), optionalField('trunkId')],
  verify: { kind: 'upstream', checker: SinchProjectVerifier },
});
