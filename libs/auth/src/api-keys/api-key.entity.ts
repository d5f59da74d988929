import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';
import type { Scope } from '@mintline/access/scopes';

@Entity('api_keys')
export class ApiKeyEntity {
  @PrimaryColumn('uuid')
  id: string;

  /** The org that created the key and manages it. */
  @Column('uuid', { name: 'owner_org_id' })
  ownerOrgId: string;

  /** The org the key acts in: the owner, or a direct child org named by `subOrgId` at creation. */
  @Column('uuid', { name: 'org_id' })
  orgId: string;

  @Column('text')
  name: string;

  @Column('text', { array: true })
  scopes: Scope[];

  @Column('text')
  prefix: string;

  /** SHA-256 of the token; the token itself is shown once and never stored. */
  @Column('bytea', { name: 'token_hash', select: false })
  tokenHash: Buffer;

  @Column('text', { name: 'created_by_kind' })
  createdByKind: 'user' | 'api_key';

  @Column('uuid', { name: 'created_by_id' })
  createdById: string;

  @Column('timestamptz', { name: 'expires_at', nullable: true })
  expiresAt: Date | null;

  @Column('integer', { name: 'max_requests_per_day', nullable: true })
  maxRequestsPerDay: number | null;

  @Column('timestamptz', { name: 'last_used_at', nullable: true })
  lastUsedAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
