import { AddressInfo, createServer } from 'node:net';

/** Helpers for the fault tests (database outage, graceful shutdown): a steady load and a port to put a server on. */

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** One request of a load: when it went and came back, and what came back (or the socket error). */
export interface Outcome {
  requestId: string;
  sentAt: number;
  doneAt: number;
  status?: number;
  headers?: Record<string, string | string[] | undefined>;
  headerRequestId?: string | null;
  body?: any;
  text?: string;
  /** Socket-level failure (ECONNREFUSED, ECONNRESET, ...). */
  error?: string;
}

export interface Load<T> {
  /** Every outcome, in the order they came back. */
  outcomes: T[];
  /** Resolves when every client has stopped (told to, or by `after`). */
  done: Promise<void>;
  /** Tells every client to stop after its current request; resolves when they have. */
  stop(): Promise<void>;
}

/**
 * `clients` clients sending requests back to back: client `i` sends with `send(i)` (which must not reject:
 * a failure is an outcome too) and, after each outcome, runs `after` (to pause, say), which may answer
 * 'stop' to end that client.
 */
export function startLoad<T>(clients: number, send: (client: number) => Promise<T>, after?: (outcome: T) => Promise<'stop' | void> | 'stop' | void): Load<T> {
  const outcomes: T[] = [];
  let stopped = false;
  const done = Promise.all(
    Array.from({ length: clients }, async (_, client) => {
      while (!stopped) {
        const outcome = await send(client);
        outcomes.push(outcome);
        if ((await after?.(outcome)) === 'stop') return;
      }
    }),
  ).then(() => undefined);
  return {
    outcomes,
    done,
    stop: () => {
      stopped = true;
      return done;
    },
  };
}
