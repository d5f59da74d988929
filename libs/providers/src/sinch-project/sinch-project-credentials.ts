/** The decrypted `sinch-project` credentials of an org. */
export interface SinchProjectCredentials {
  projectId: string;
  keyId: string;
  keySecret: string;
  trunkId?: string;
}
