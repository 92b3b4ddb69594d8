/** A LocalFleet whose data planes a test sets by hand. */
import type { DataplaneStatus, LocalFleet } from '../../channel/fleet.ts';

export class FakeLocalFleet implements LocalFleet {
  #list: DataplaneStatus[] = [];
  readonly #listeners = new Set<() => void>();

  constructor(list: DataplaneStatus[] = []) {
    this.#list = list;
  }

  list(): DataplaneStatus[] {
    return [...this.#list];
  }

  set(list: DataplaneStatus[]): void {
    this.#list = list;
    for (const l of [...this.#listeners]) l();
  }

  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  get listeners(): number {
    return this.#listeners.size;
  }
}

/** A DataplaneStatus with defaults. */
export function dataplane(node: string, fields: Partial<DataplaneStatus> = {}): DataplaneStatus {
  return { node, replica: 'r1', ackedVersion: null, nack: null, health: [], updatedAt: 1, ...fields };
}
