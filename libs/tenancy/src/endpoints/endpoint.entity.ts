import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

export type EndpointState = 'active' | 'archived';

@Entity('endpoints')
export class EndpointEntity {
  @PrimaryColumn('uuid')
  id: string;

  @Column('uuid', { name: 'org_id' })
  orgId: string;

  @Column('text')
  name: string;

  /** Whether browsers may open WebRTC sessions on it (call tokens are minted only for these). */
  @Column('boolean')
  webrtc: boolean;

  @Column('text')
  state: EndpointState;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
