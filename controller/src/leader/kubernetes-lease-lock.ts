/**
 * `LeaseLock` on a `coordination.k8s.io/v1` Lease through client-node's CoordinationV1Api, as
 * client-go's `resourcelock.LeaseLock` does it:
 *   GET  /apis/coordination.k8s.io/v1/namespaces/NS/leases/NAME   (404 -> null)
 *   POST /apis/coordination.k8s.io/v1/namespaces/NS/leases        (409 AlreadyExists -> conflict)
 *   PUT  /apis/coordination.k8s.io/v1/namespaces/NS/leases/NAME   (with metadata.resourceVersion; 409 -> conflict)
 * The last object read or written is kept so a PUT carries its labels and annotations along.
 * Times go out as MicroTime (six fractional digits), which the API server requires.
 */
import {
  ApiException,
  CoordinationV1Api,
  IsomorphicFetchHttpLibrary,
  V1MicroTime,
  type ConfigurationOptions,
  type HttpLibrary,
  type KubeConfig,
  type V1Lease,
} from '@kubernetes/client-node';
import { microTimeText } from '../kube-time.ts';
import { LeaseConflictError, type LeaderRecord, type LeaseLock, type ObservedLease } from './lease-lock.ts';

export interface KubernetesLeaseLockOptions {
  api: CoordinationV1Api;
  namespace: string;
  name: string;
}

export class KubernetesLeaseLock implements LeaseLock {
  readonly description: string;
  readonly #api: CoordinationV1Api;
  readonly #namespace: string;
  readonly #name: string;
  #last: V1Lease | null = null;

  constructor(options: KubernetesLeaseLockOptions) {
    this.#api = options.api;
    this.#namespace = options.namespace;
    this.#name = options.name;
    this.description = `${options.namespace}/${options.name}`;
  }

  /** A lock on `namespace/name` with a CoordinationV1Api made from `kubeConfig`. */
  static fromKubeConfig(kubeConfig: KubeConfig, namespace: string, name: string): KubernetesLeaseLock {
    return new KubernetesLeaseLock({ api: kubeConfig.makeApiClient(CoordinationV1Api), namespace, name });
  }

  async get(signal?: AbortSignal): Promise<ObservedLease | null> {
    let lease: V1Lease;
    try {
      lease = await this.#api.readNamespacedLease({ name: this.#name, namespace: this.#namespace }, requestOptions(signal));
    } catch (err) {
      if (err instanceof ApiException && err.code === 404) {
        this.#last = null;
        return null;
      }
      throw err;
    }
    this.#last = lease;
    return { record: toRecord(lease), resourceVersion: lease.metadata?.resourceVersion ?? '' };
  }

  async create(record: LeaderRecord, signal?: AbortSignal): Promise<string> {
    const body: V1Lease = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: this.#name, namespace: this.#namespace },
      spec: toSpec(record),
    };
    const lease = await this.#write(() => this.#api.createNamespacedLease({ namespace: this.#namespace, body }, requestOptions(signal)));
    return lease.metadata?.resourceVersion ?? '';
  }

  async update(record: LeaderRecord, resourceVersion: string, signal?: AbortSignal): Promise<string> {
    const base = this.#last;
    const body: V1Lease = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { ...base?.metadata, name: this.#name, namespace: this.#namespace, resourceVersion },
      spec: { ...base?.spec, ...toSpec(record) },
    };
    const lease = await this.#write(() =>
      this.#api.replaceNamespacedLease({ name: this.#name, namespace: this.#namespace, body }, requestOptions(signal)),
    );
    return lease.metadata?.resourceVersion ?? '';
  }

  async #write(call: () => Promise<V1Lease>): Promise<V1Lease> {
    try {
      const lease = await call();
      this.#last = lease;
      return lease;
    } catch (err) {
      if (err instanceof ApiException && err.code === 409) {
        throw new LeaseConflictError(`lease ${this.description}: ${statusMessage(err) ?? 'conflict'}`, { cause: err });
      }
      throw err;
    }
  }
}

function toSpec(record: LeaderRecord): NonNullable<V1Lease['spec']> {
  return {
    holderIdentity: record.holderIdentity,
    leaseDurationSeconds: record.leaseDurationSeconds,
    acquireTime: new ExactMicroTime(record.acquireTime),
    renewTime: new ExactMicroTime(record.renewTime),
    leaseTransitions: record.leaseTransitions,
  };
}

function toRecord(lease: V1Lease): LeaderRecord {
  const spec = lease.spec ?? {};
  return {
    holderIdentity: spec.holderIdentity ?? '',
    leaseDurationSeconds: spec.leaseDurationSeconds ?? 0,
    acquireTime: microTimeText(spec.acquireTime) ?? '',
    renewTime: microTimeText(spec.renewTime) ?? '',
    leaseTransitions: spec.leaseTransitions ?? 0,
  };
}

/** A V1MicroTime that serializes to exactly the text it was made from (keeps a server's microseconds). */
class ExactMicroTime extends V1MicroTime {
  readonly #text: string;
  constructor(text: string) {
    super(Date.parse(text));
    this.#text = text;
  }
  override toISOString(): string {
    return this.#text;
  }
}

/** Per-request options that make client-node's fetch honour `signal`. */
function requestOptions(signal: AbortSignal | undefined): ConfigurationOptions | undefined {
  if (!signal) return undefined;
  const fetchLibrary = new IsomorphicFetchHttpLibrary();
  const httpApi: HttpLibrary = {
    send(request) {
      request.setSignal(signal);
      return fetchLibrary.send(request);
    },
  };
  return { httpApi };
}

function statusMessage(err: ApiException<unknown>): string | null {
  const body: unknown = typeof err.body === 'string' ? safeParse(err.body) : err.body;
  if (body && typeof body === 'object' && 'message' in body && typeof body.message === 'string') return body.message;
  return null;
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
