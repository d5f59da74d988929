import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { Role } from '@mintline/access/scopes';
import type { PolicyProvider } from './policy-providers';

@Entity('token_policies')
export class TokenPolicyEntity {
  @PrimaryColumn('uuid', { name: 'org_id' })
  orgId: string;

  @PrimaryColumn('text')
  provider: PolicyProvider;

  @Column('integer', { name: 'max_ttl_seconds', nullable: true })
  maxTtlSeconds: number | null;

  @Column('text', { array: true, nullable: true })
  roles: Role[] | null;

  @Column('text', { array: true, nullable: true })
  rooms: string[] | null;

  @Column('boolean', { nullable: true })
  publish: boolean | null;

  @Column('timestamptz', { name: 'updated_at' })
  updatedAt: Date;

  @Column('text', { name: 'updated_by_kind' })
  updatedByKind: string;

  @Column('text', { name: 'updated_by_id', nullable: true })
  updatedById: string | null;
}
