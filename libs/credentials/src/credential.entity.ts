import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { EncryptedSecret } from './envelope-cipher';
import type { CredentialProvider } from '@mintline/providers/provider-registry';

@Entity('credentials')
export class CredentialEntity {
  @PrimaryColumn('uuid', { name: 'org_id' })
  orgId: string;

  @PrimaryColumn('text')
  provider: CredentialProvider;

  /** The non-secret fields, in plain text. */
  @Column('jsonb')
  fields: Record<string, string>;

  /** Each secret field as its own AES-256-GCM envelope, bound to (org, provider, field). */
  @Column('jsonb')
  secrets: Record<string, EncryptedSecret>;

  @Column('timestamptz', { name: 'updated_at' })
  updatedAt: Date;

  @Column('text', { name: 'updated_by_kind' })
  updatedByKind: string;

  @Column('text', { name: 'updated_by_id', nullable: true })
  updatedById: string | null;
}
