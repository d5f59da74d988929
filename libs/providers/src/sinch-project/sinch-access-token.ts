/** An OAuth access token Sinch issued for an org's project key. */
export interface SinchAccessToken {
  token: string;
  expiresAt: Date;
}
