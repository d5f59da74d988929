import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

@Entity('orgs')
export class OrgEntity {
  @PrimaryColumn('uuid')
  id: string;

  @Column('text')
  name: string;

  @Column('uuid', { name: 'parent_org_id', nullable: true })
  parentOrgId: string | null;

  @Column('boolean', { name: 'webrtc_enabled', default: false })
  webrtcEnabled: boolean;

  @Column('integer', { name: 'mints_per_minute', default: 600 })
  mintsPerMinute: number;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
