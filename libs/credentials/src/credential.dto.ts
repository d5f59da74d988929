import { ApiProperty } from '@nestjs/swagger';
import { maskedCredentialFieldProperties } from './credential-fields.schema';
import { CREDENTIAL_PROVIDERS } from '@mintline/providers/provider-registry';

export class CredentialActorView {
  @ApiProperty({ enum: ['user', 'api_key', 'operator', 'system'] })
  kind: string;

  @ApiProperty({ nullable: true, type: String, maxLength: 64, description: 'The user or API key id; null for the operator and the system' })
  id: string | null;
}

export class CredentialView {
  @ApiProperty({ enum: CREDENTIAL_PROVIDERS })
  provider: string;

  @ApiProperty({
    description: 'The provider fields; a secret field shows only "••••" and its last 4 characters',
    type: 'object',
    additionalProperties: false,
    properties: maskedCredentialFieldProperties(),
    example: { applicationKey: 'a32e5a8d-f7d8-411c-9645-9038e8dd051d', applicationSecret: '••••MA==' },
  })
  fields: Record<string, string>;

  @ApiProperty({ format: 'date-time' })
  updatedAt: string;

  @ApiProperty({ type: CredentialActorView })
  updatedBy: CredentialActorView;
}
