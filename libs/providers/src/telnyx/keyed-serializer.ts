/**
 * Runs the tasks of one key one after another (in arrival order) and those of different keys side by
 * side. Within one instance this keeps concurrent first mints of a user from each holding a database
 * connection while they wait on the same lock; across instances the database lock does the rest.
 */
export class KeyedSerializer {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const result = previous.then(task, task);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, tail);
    // The last task of a key removes it, so the map holds only keys with work in flight.
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }

  /** Keys with work in flight (for tests). */
  get size(): number {
    return this.tails.size;
  }
}
