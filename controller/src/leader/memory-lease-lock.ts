/**
 * An in-memory `LeaseLock` for unit tests: one instance stands for one Lease object on an API
 * server, shared by every elector under test. It keeps a resourceVersion and rejects stale
 * updates and duplicate creates with `LeaseConflictError`, as the API server does. An
 * `interceptor` runs before each call to fail it (throw) or hold it (return a pending promise).
 */
import { LeaseConflictError, type LeaderRecord, type LeaseLock, type ObservedLease } from './lease-lock.ts';

export type LeaseOperation = 'get' | 'create' | 'update';

export interface LeaseCall {
  op: LeaseOperation;
  /** The holderIdentity written, for create and update. */
  holder?: string;
  outcome: 'ok' | 'conflict' | 'error';
}

export class MemoryLeaseLock implements LeaseLock {
  readonly description: string;
  /** Runs before every call. Throw to fail the call; return a promise to delay it. */
  interceptor: ((op: LeaseOperation, record?: LeaderRecord) => void | Promise<void>) | null = null;
  /** Every call that reached the store, in order. */
  readonly calls: LeaseCall[] = [];
  #record: LeaderRecord | null = null;
  #resourceVersion = 0;

  constructor(description = 'default/memory-lease') {
    this.description = description;
  }

  /** The stored record (a copy), or null. */
  get record(): LeaderRecord | null {
    return this.#record && { ...this.#record };
  }

  get resourceVersion(): string {
    return String(this.#resourceVersion);
  }

  /** Writes the record directly, as another client would: bumps the resourceVersion. */
  put(record: LeaderRecord): string {
    this.#record = { ...record };
    return String(++this.#resourceVersion);
  }

  async get(signal?: AbortSignal): Promise<ObservedLease | null> {
    await this.#intercept('get', undefined, signal);
    this.calls.push({ op: 'get', outcome: 'ok' });
    return this.#record && { record: { ...this.#record }, resourceVersion: String(this.#resourceVersion) };
  }

  async create(record: LeaderRecord, signal?: AbortSignal): Promise<string> {
    await this.#intercept('create', record, signal);
    if (this.#record !== null) {
      this.calls.push({ op: 'create', holder: record.holderIdentity, outcome: 'conflict' });
      throw new LeaseConflictError(`lease ${this.description} already exists`);
    }
    this.calls.push({ op: 'create', holder: record.holderIdentity, outcome: 'ok' });
    return this.put(record);
  }

  async update(record: LeaderRecord, resourceVersion: string, signal?: AbortSignal): Promise<string> {
    await this.#intercept('update', record, signal);
    if (this.#record === null || resourceVersion !== String(this.#resourceVersion)) {
      this.calls.push({ op: 'update', holder: record.holderIdentity, outcome: 'conflict' });
      throw new LeaseConflictError(
        `lease ${this.description}: resourceVersion ${resourceVersion} is stale (current ${this.#resourceVersion})`,
      );
    }
    this.calls.push({ op: 'update', holder: record.holderIdentity, outcome: 'ok' });
    return this.put(record);
  }

  async #intercept(op: LeaseOperation, record: LeaderRecord | undefined, signal: AbortSignal | undefined): Promise<void> {
    signal?.throwIfAborted();
    const interceptor = this.interceptor;
    if (interceptor) {
      try {
        await abortable(Promise.resolve(interceptor(op, record && { ...record })), signal);
      } catch (err) {
        this.calls.push({ op, ...(record ? { holder: record.holderIdentity } : {}), outcome: 'error' });
        throw err;
      }
    }
    signal?.throwIfAborted();
  }
}

function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}
