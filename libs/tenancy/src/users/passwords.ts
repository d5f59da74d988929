import * as argon2 from 'argon2';

/** argon2id with the library's defaults (64 MiB, 3 passes): OWASP's recommended minimum or better. */
export function hashPassword(password: string): Promise<string> {
  return argon2.hash(password, { type: argon2.argon2id });
}

export async function verifyPassword(hash: string, password: string): Promise<boolean> {
  try {
    return await argon2.verify(hash, password);
  } catch {
    return false;
  }
}

let decoy: Promise<string> | undefined;

/**
 * Verifies against a throwaway hash, so a login for an unknown email costs as much as one for a
 * known email and timing does not tell which emails exist.
 */
export async function verifyDecoy(password: string): Promise<false> {
  decoy ??= hashPassword('mintline-decoy-password');
  await verifyPassword(await decoy, password);
  return false;
}
