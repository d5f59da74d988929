import { ValidateIf } from 'class-validator';

/**
 * The field may be left out, but not sent as null: its other rules then apply to null and refuse it
 * (400 naming the field). For fields the database keeps NOT NULL; `@IsOptional()` would let null
 * through, to be refused later by the database without the field's name.
 */
export const IsOmittable = (): PropertyDecorator => ValidateIf((_object: unknown, value: unknown) => value !== undefined);
