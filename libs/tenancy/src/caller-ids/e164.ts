import { ValidationOptions, registerDecorator } from 'class-validator';
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';

/** A valid number written exactly in E.164: a plus, the country code and the national number, nothing else. */
export function isE164(value: unknown): boolean {
  if (typeof value !== 'string' || !/^\+[1-9]\d{6,14}$/.test(value)) return false;
  const parsed = parsePhoneNumberFromString(value);
  return Boolean(parsed && parsed.isValid() && parsed.number === value);
}

export function IsE164(options?: ValidationOptions) {
  return (target: object, propertyName: string) =>
    registerDecorator({
      name: 'isE164',
      target: target.constructor,
      propertyName,
      options: { message: 'must be a valid phone number in E.164 form, e.g. +14165550100', ...options },
      validator: { validate: isE164 },
    });
}
