import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

export type CallerIdProvider = 'sinch' | 'twilio';

@Entity('phone_numbers')
export class PhoneNumberEntity {
  @PrimaryColumn('uuid')
  id: string;

  @Column('uuid', { name: 'org_id' })
  orgId: string;

  @Column('uuid', { name: 'user_id' })
  userId: string;

  @Column('text')
  provider: CallerIdProvider;

  /** E.164, e.g. +14165550100. */
  @Column('text', { name: 'phone_number' })
  phoneNumber: string;

  @Column('boolean', { name: 'is_default' })
  isDefault: boolean;

  @Column('text', { nullable: true })
  label: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
