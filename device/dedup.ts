// Remembers the last N ids, so QoS 1 redeliveries do not ring twice; bounded memory.
export class RecentIds {
  #ids = new Set<string>();
  #limit: number;

  constructor(limit: number) {
    this.#limit = limit;
  }

  /** True the first time an id is seen (and remembers it). */
  add(id: string): boolean {
    if (this.#ids.has(id)) return false;
    this.#ids.add(id);
    if (this.#ids.size > this.#limit) {
      const oldest = this.#ids.values().next().value;
      if (oldest !== undefined) this.#ids.delete(oldest);
    }
    return true;
  }

  get size(): number {
    return this.#ids.size;
  }
}
