/**
 * The endpoint-churn fast path: `retranslate` must equal `translate` on every input, and must do
 * less work when only endpoints changed.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { retranslate } from './incremental.ts';
import type { Translation } from './incremental.ts';
import { translate } from './translate.ts';
import type { Endpoint, RawObject, TranslateInput } from './types.ts';

const backend = (ns: string, name: string, service: string | null, extra: object = {}): RawObject => ({
  source: null,
  object: {
    apiVersion: 'switchyard.dev/v1alpha1',
    kind: 'Backend',
    metadata: { namespace: ns, name, generation: 1 },
    spec: { ...(service === null ? { servers: [{ name: 's1', address: '10.9.9.9', port: 80 }] } : { serviceRef: { name: service, port: 80 } }), ...extra },
  },
});
const frontend = (ns: string, name: string, backendName: string, port: number): RawObject => ({
  source: null,
  object: {
    apiVersion: 'switchyard.dev/v1alpha1',
    kind: 'Frontend',
    metadata: { namespace: ns, name, generation: 1 },
    spec: { binds: [{ address: '0.0.0.0', port }], defaultBackend: { name: backendName } },
  },
});
const eps = (...addresses: string[]): Endpoint[] => addresses.map((address) => ({ address, port: 8080, name: 'http', servicePort: 80 }));

/** 50 Backends on 50 Services, a static one, a rejected one on svc-0, Frontends for a few. */
function world(): { objects: RawObject[]; endpoints: Map<string, Endpoint[]> } {
  const objects: RawObject[] = [];
  const endpoints = new Map<string, Endpoint[]>();
  for (let i = 0; i < 50; i++) {
    objects.push(backend('shop', `b${i}`, `svc-${i}`));
    endpoints.set(`shop/svc-${i}`, eps(`10.0.${i}.1`, `10.0.${i}.2`));
  }
  objects.push(backend('shop', 'static', null));
  objects.push(backend('shop', 'rejected', 'svc-0', { hashKey: 'x' })); // hashKey without hdr/url_param: Accepted=False
  objects.push(frontend('shop', 'f0', 'b0', 8000));
  objects.push(frontend('shop', 'f1', 'b1', 8001));
  objects.push(frontend('shop', 'fs', 'static', 8002));
  return { objects, endpoints };
}

function check(t: Translation, input: TranslateInput): void {
  assert.deepEqual(t.result, translate(input), 'retranslate must equal a full translate');
}

test('only the Backends on a Service whose endpoints changed are recompiled; the rest is reused by identity', () => {
  const { objects, endpoints } = world();
  const first = retranslate(null, { objects, endpoints });
  assert.equal(first.stats.mode, 'full');
  assert.equal(first.stats.backendsCompiled, 52);

  const next = new Map(endpoints);
  next.set('shop/svc-7', eps('10.0.7.1', '10.0.7.2', '10.0.7.3'));
  const input = { objects, endpoints: next };
  const second = retranslate(first, input);
  check(second, input);
  assert.deepEqual(second.stats, { mode: 'endpoints', backendsCompiled: 1 });
  const before = first.result.snapshot.clusters;
  const after = second.result.snapshot.clusters;
  assert.equal(second.result.snapshot.listeners, first.result.snapshot.listeners, 'listeners reused');
  for (let i = 0; i < after.length; i++) {
    if (after[i]!.name === 'shop/b7') {
      assert.notEqual(after[i], before[i]);
      assert.equal(after[i]!.servers.length, 3);
    } else {
      assert.equal(after[i], before[i], `${after[i]!.name} reused`);
    }
  }
  const changedResults = second.result.results.filter((r, i) => r !== first.result.results[i]);
  assert.deepEqual(
    changedResults.map((r) => r.name),
    ['b7'],
  );
});

test('a Backend rejected for other reasons is recompiled too: its status reports its references', () => {
  const { objects, endpoints } = world();
  const first = retranslate(null, { objects, endpoints });
  const next = new Map(endpoints);
  next.set('shop/svc-0', []);
  const second = retranslate(first, { objects, endpoints: next });
  check(second, { objects, endpoints: next });
  assert.deepEqual(second.stats, { mode: 'endpoints', backendsCompiled: 2 }); // b0 and rejected
});

test('endpoints of Services no Backend uses, or an equal map, change nothing', () => {
  const { objects, endpoints } = world();
  const first = retranslate(null, { objects, endpoints });
  const next = new Map(endpoints);
  next.set('shop/unused', eps('10.1.1.1'));
  next.set('shop/svc-3', eps('10.0.3.1', '10.0.3.2')); // equal content, new array
  const second = retranslate(first, { objects, endpoints: next });
  assert.deepEqual(second.stats, { mode: 'unchanged', backendsCompiled: 0 });
  assert.equal(second.result, first.result);
  // The next diff is against the new input.
  const third = retranslate(second, { objects, endpoints: new Map(next).set('shop/svc-3', eps('10.0.3.1')) });
  assert.equal(third.stats.mode, 'endpoints');
});

test('a Backend that stops (or starts) being served falls back to a full translation: its Frontend changes', () => {
  const { objects, endpoints } = world();
  const first = retranslate(null, { objects, endpoints });
  const gone = new Map(endpoints);
  gone.delete('shop/svc-0'); // Service deleted: b0 not served, Frontend f0 loses its default backend
  const second = retranslate(first, { objects, endpoints: gone });
  check(second, { objects, endpoints: gone });
  assert.equal(second.stats.mode, 'full');
  assert.equal(second.result.snapshot.listeners.find((l) => l.frontend === 'shop/f0')!.defaultCluster, null);

  const back = retranslate(second, { objects, endpoints });
  check(back, { objects, endpoints });
  assert.equal(back.stats.mode, 'full');
  assert.equal(back.result.snapshot.listeners.find((l) => l.frontend === 'shop/f0')!.defaultCluster, 'shop/b0');
});

test('new objects, or no endpoints (standalone), mean a full translation', () => {
  const { objects, endpoints } = world();
  const first = retranslate(null, { objects, endpoints });
  const more = [...objects, backend('shop', 'extra', 'svc-1')];
  const second = retranslate(first, { objects: more, endpoints });
  check(second, { objects: more, endpoints });
  assert.equal(second.stats.mode, 'full');
  const standalone = retranslate(second, { objects: more });
  check(standalone, { objects: more });
  assert.equal(standalone.stats.mode, 'full');
});

test('random endpoint churn: every step equals a full translation', () => {
  let seed = 42;
  const random = (): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x80000000;
  };
  const { objects, endpoints } = world();
  let current: Map<string, Endpoint[]> = endpoints;
  let t = retranslate(null, { objects, endpoints: current });
  const modes = new Set<string>();
  for (let step = 0; step < 200; step++) {
    const next = new Map(current);
    for (let k = 0; k < 3; k++) {
      const i = Math.floor(random() * 52);
      const key = i === 51 ? 'shop/unused' : `shop/svc-${i}`;
      const r = random();
      if (r < 0.1) next.delete(key);
      else if (r < 0.2) next.set(key, []);
      else if (r < 0.3) next.set(key, [{ address: `10.2.${i}.1`, port: 9090, name: 'metrics', servicePort: 9090 }]); // no port 80: unresolved
      else next.set(key, eps(...Array.from({ length: 1 + Math.floor(random() * 4) }, (_, j) => `10.0.${i}.${j + 1}`)));
    }
    current = next;
    t = retranslate(t, { objects, endpoints: current });
    modes.add(t.stats.mode);
    check(t, { objects, endpoints: current });
  }
  assert.deepEqual([...modes].sort(), ['endpoints', 'full', 'unchanged']);
});

test('useBackends count as references: a Backend they name that stops being served changes the Frontend', () => {
  const { objects, endpoints } = world();
  const routed: RawObject = {
    source: null,
    object: {
      apiVersion: 'switchyard.dev/v1alpha1',
      kind: 'Frontend',
      metadata: { namespace: 'shop', name: 'routed', generation: 1 },
      spec: { binds: [{ port: 8100 }], useBackends: [{ backend: 'b5', if: '{ path_beg /five }' }], defaultBackend: { name: 'static' } },
    },
  };
  const sticky = backend('shop', 'sticky', 'svc-6', {
    persistence: { cookie: { name: 'SRV' }, stick: { on: 'src', table: { type: 'ip', size: '10k' } } },
  });
  const all = [...objects, routed, sticky];
  const first = retranslate(null, { objects: all, endpoints });
  assert.deepEqual(first.result.snapshot.listeners.find((l) => l.frontend === 'shop/routed')!.rules!.useBackends.map((u) => u.cluster), ['shop/b5']);
  assert.deepEqual(first.result.snapshot.stickTables.map((t) => t.name), ['backend:shop/sticky']);

  const gone = new Map(endpoints);
  gone.delete('shop/svc-5');
  const second = retranslate(first, { objects: all, endpoints: gone });
  check(second, { objects: all, endpoints: gone });
  assert.equal(second.stats.mode, 'full');
  assert.deepEqual(second.result.snapshot.listeners.find((l) => l.frontend === 'shop/routed')!.rules!.useBackends, []);

  // Endpoints of a Backend with persistence: its cookies follow the servers, its table stays.
  const churn = new Map(gone).set('shop/svc-6', eps('10.0.6.9'));
  const third = retranslate(second, { objects: all, endpoints: churn });
  check(third, { objects: all, endpoints: churn });
  assert.equal(third.stats.mode, 'endpoints');
  assert.deepEqual(third.result.snapshot.clusters.find((c) => c.name === 'shop/sticky')!.servers.map((s) => s.cookie), ['10.0.6.9:8080']);
  assert.equal(third.result.snapshot.stickTables, second.result.snapshot.stickTables);
});
