import { Injectable } from '@nestjs/common';
import * as argon2 from 'argon2';
import { AppConfig } from '@mintline/common/config';

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

/**
 * The service's password hashing and checking, at most AppConfig.passwordHashConcurrency at once; the
 * rest wait in order. Each argon2id computation holds 64 MiB (allocated when it starts, returned to the
 * system when it ends) and already keeps four threads busy, so past about one per four cores more at
 * once only raise the peak memory (LOGIN_CONCURRENCY logins admitted at once were up to 8 × 64 MiB on
 * two cores) and take libuv pool threads from DNS lookups, without finishing any sooner.
 */
@Injectable()
export class Passwords {
  private readonly gate: Gate;
  private decoy?: Promise<string>;

  constructor(config: AppConfig) {
    this.gate = new Gate(config.passwordHashConcurrency);
  }

  hash(password: string): Promise<string> {
    return this.gate.run(() => hashPassword(password));
  }

  verify(hash: string, password: string): Promise<boolean> {
    return this.gate.run(() => verifyPassword(hash, password));
  }

  /**
   * Verifies against a throwaway hash, so a login for an unknown email costs as much as one for a
   * known email and timing does not tell which emails exist.
   */
  async verifyDecoy(password: string): Promise<false> {
    this.decoy ??= this.hash('mintline-decoy-password');
    await this.verify(await this.decoy, password);
    return false;
  }
}

/** A counting semaphore: `run` starts its task when fewer than `size` are running, else when one ends (first come, first served). */
export class Gate {
  running = 0;
  private readonly queue: Array<() => void> = [];

  constructor(private readonly size: number) {}

  get waiting(): number {
    return this.queue.length;
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.size) await new Promise<void>((resolve) => this.queue.push(resolve));
    else this.running += 1;
    try {
      return await task();
    } finally {
      // The slot passes straight to the next in line (running stays counted), or is given back.
      const next = this.queue.shift();
      if (next) next();
      else this.running -= 1;
    }
  }
}
