import { ApiProperty } from '@nestjs/swagger';
import { CREDENTIAL_PROVIDERS } from './provider-fields';

export class CredentialActorView {
  @ApiProperty({ enum: ['user', 'api_key', 'operator', 'system'] })
  kind: string;

  @ApiProperty({ nullable: true, type: String })
  id: string | null;
}

export class CredentialView {
  @ApiProperty({ enum: CREDENTIAL_PROVIDERS })
  provider: string;

  @ApiProperty({
    description: 'The provider fields; a secret field shows only "••••" and its last 4 characters',
    example: { applicationKey: 'a32e5a8d-f7d8-411c-9645-9038e8dd051d', applicationSecret: '••••MA==' },
    type: 'object',
    additionalProperties: { type: 'string' },
  })
  fields: Record<string, string>;

  @ApiProperty({ format: 'date-time' })
  updatedAt: string;

  @ApiProperty({ type: CredentialActorView })
  updatedBy: CredentialActorView;
}
