/**
 * In-memory custom objects with a status subresource, for StatusWriter and EventRecorder tests:
 * resourceVersion preconditions (409), 404, a hook run between a read and the next write (to play
 * a concurrent writer), failure injection, and a log of calls.
 */
import { HttpError } from '../../fleet/api-errors.ts';
import type { KubeObject, ObjectRef, StatusClient } from '../status-client.ts';
import type { EventClient, KubeEvent } from '../event-recorder.ts';

export class FakeStatusClient implements StatusClient {
  readonly objects = new Map<string, KubeObject>();
  readonly calls: string[] = [];
  readonly failNext: Error[] = [];
  /** Called after each GET returns, before the caller can write (a concurrent writer). */
  afterGet: ((ref: ObjectRef) => void) | null = null;
  /** Makes each call wait until released (to observe concurrency). */
  gate: Promise<void> | null = null;
  inFlight = 0;
  maxInFlight = 0;
  #rv = 1;
  #uid = 1;

  static key(ref: ObjectRef): string {
    return `${ref.kind}/${ref.namespace}/${ref.name}`;
  }

  add(ref: ObjectRef, fields: { generation?: number; status?: unknown } = {}): KubeObject {
    const object: KubeObject = {
      apiVersion: 'switchyard.dev/v1alpha1',
      kind: ref.kind,
      metadata: { name: ref.name, namespace: ref.namespace, uid: `uid-${this.#uid++}`, resourceVersion: String(++this.#rv), generation: fields.generation ?? 1 },
      spec: {},
      ...(fields.status === undefined ? {} : { status: structuredClone(fields.status) }),
    };
    this.objects.set(FakeStatusClient.key(ref), object);
    return structuredClone(object);
  }

  /** A write by someone else: bumps resourceVersion (and generation on a spec change). */
  touch(ref: ObjectRef, change: { spec?: boolean; status?: unknown } = {}): void {
    const o = this.objects.get(FakeStatusClient.key(ref))!;
    o.metadata!.resourceVersion = String(++this.#rv);
    if (change.spec) o.metadata!.generation = (o.metadata!.generation ?? 1) + 1;
    if (change.status !== undefined) o.status = structuredClone(change.status);
  }

  status(ref: ObjectRef): unknown {
    return structuredClone(this.objects.get(FakeStatusClient.key(ref))?.status);
  }

  async #enter(call: string): Promise<void> {
    this.calls.push(call);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      if (this.gate) await this.gate;
      const err = this.failNext.shift();
      if (err) throw err;
    } finally {
      this.inFlight--;
    }
  }

  async get(ref: ObjectRef): Promise<KubeObject> {
    await this.#enter(`get ${FakeStatusClient.key(ref)}`);
    const o = this.objects.get(FakeStatusClient.key(ref));
    if (!o) throw new HttpError(404, `not found`);
    const copy = structuredClone(o);
    this.afterGet?.(ref);
    return copy;
  }

  async replaceStatus(ref: ObjectRef, object: KubeObject): Promise<KubeObject> {
    await this.#enter(`put ${FakeStatusClient.key(ref)}`);
    const o = this.objects.get(FakeStatusClient.key(ref));
    if (!o) throw new HttpError(404, 'not found');
    if (object.metadata?.resourceVersion !== o.metadata?.resourceVersion) throw new HttpError(409, 'the object has been modified');
    o.status = structuredClone(object.status);
    o.metadata!.resourceVersion = String(++this.#rv);
    return structuredClone(o);
  }
}

export class FakeEventClient implements EventClient {
  readonly events = new Map<string, KubeEvent>();
  readonly calls: string[] = [];
  readonly failNext: Error[] = [];
  readonly uids = new Map<string, string>();

  async create(event: KubeEvent): Promise<void> {
    this.calls.push(`create ${event.reason}`);
    const err = this.failNext.shift();
    if (err) throw err;
    const key = `${event.metadata.namespace}/${event.metadata.name}`;
    if (this.events.has(key)) throw new HttpError(409, 'already exists');
    this.events.set(key, structuredClone(event));
  }

  async patch(namespace: string, name: string, patch: { count: number; lastTimestamp: string }): Promise<void> {
    this.calls.push(`patch ${name}`);
    const err = this.failNext.shift();
    if (err) throw err;
    const e = this.events.get(`${namespace}/${name}`);
    if (!e) throw new HttpError(404, 'not found');
    Object.assign(e, patch);
  }

  async lookupUid(target: ObjectRef): Promise<string | undefined> {
    this.calls.push(`lookup ${target.kind}/${target.name}`);
    return this.uids.get(`${target.kind}/${target.namespace}/${target.name}`);
  }

  list(): KubeEvent[] {
    return [...this.events.values()];
  }
}
