/**
 * The watch protocol at the wire (reference §3.3, §3.7): headers flushed before any event, initial
 * ADDED events, replay from a resourceVersion, 410 Gone for versions older than the retained
 * history, bookmarks only when asked, timeoutSeconds, selector transitions.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eventually } from '../helpers/eventually.ts';
import { startKubeApiServer } from './index.ts';
import { call, openWatch } from './testing.ts';

const CM = '/api/v1/namespaces/default/configmaps';
const configMap = (name: string, labels: Record<string, string> = {}, data: Record<string, string> = {}): object => ({ metadata: { name, labels }, data });
const types = (events: { type: string; object: { metadata: { name?: string } } }[]): string[] => events.map((e) => `${e.type} ${e.object.metadata.name ?? ''}`.trim());

test('watch: headers come at once; initial ADDED; replay from a resourceVersion; live events', async (t) => {
  const api = await startKubeApiServer();
  t.after(() => api.close());
  const first = (await call(api, 'POST', CM, configMap('one'))).body;

  // No event is pending for this watch, yet the response (headers) arrives.
  const quiet = await openWatch(api, `${CM}?watch=true&resourceVersion=${api.resourceVersion()}`);
  t.after(() => quiet.close());
  assert.equal(quiet.status, 200);
  assert.equal(quiet.headers.get('content-type'), 'application/json');
  assert.equal(quiet.events.length, 0);

  const fromScratch = await openWatch(api, `${CM}?watch=true`);
  t.after(() => fromScratch.close());
  await eventually(() => assert.deepEqual(types(fromScratch.events), ['ADDED one']));

  const second = (await call(api, 'POST', CM, configMap('two'))).body;
  const modified = (await call(api, 'PUT', `${CM}/one`, { ...first, data: { k: 'v' } })).body;
  const deleted = await call(api, 'DELETE', `${CM}/two`);
  assert.equal(deleted.body.kind, 'Status');
  assert.equal(deleted.body.status, 'Success');
  await eventually(() => assert.deepEqual(types(quiet.events), ['ADDED two', 'MODIFIED one', 'DELETED two']));
  await eventually(() => assert.deepEqual(types(fromScratch.events), ['ADDED one', 'ADDED two', 'MODIFIED one', 'DELETED two']));
  // Event objects carry kind/apiVersion; DELETED carries the deletion's resourceVersion.
  assert.equal(quiet.events[1].object.kind, 'ConfigMap');
  assert.equal(quiet.events[1].object.metadata.resourceVersion, modified.metadata.resourceVersion);
  assert.ok(Number(quiet.events[2].object.metadata.resourceVersion) > Number(second.metadata.resourceVersion));
  assert.equal(quiet.events[2].object.metadata.resourceVersion, api.resourceVersion());

  // A watch from the first object's version replays everything after it, without initial ADDED.
  const replay = await openWatch(api, `${CM}?watch=true&resourceVersion=${first.metadata.resourceVersion}`);
  t.after(() => replay.close());
  await eventually(() => assert.deepEqual(types(replay.events), ['ADDED two', 'MODIFIED one', 'DELETED two']));
});

test('watch: a resourceVersion older than the retained history gets 410 Gone, then the stream ends', async (t) => {
  const api = await startKubeApiServer({ historyLimit: 2 });
  t.after(() => api.close());
  const start = api.resourceVersion();
  for (const name of ['a', 'b', 'c']) await call(api, 'POST', CM, configMap(name));

  const gone = await openWatch(api, `${CM}?watch=true&resourceVersion=${start}`);
  await gone.ended;
  assert.equal(gone.status, 200);
  assert.equal(gone.events.length, 1);
  assert.equal(gone.events[0].type, 'ERROR');
  assert.equal(gone.events[0].object.kind, 'Status');
  assert.equal(gone.events[0].object.code, 410);
  assert.equal(gone.events[0].object.reason, 'Expired');
  assert.match(gone.events[0].object.message, /^too old resource version: \d+ \(\d+\)$/);

  // The two newest events are retained: a watch from just before them replays both.
  const a = (await call(api, 'GET', `${CM}/a`)).body;
  const kept = await openWatch(api, `${CM}?watch=true&resourceVersion=${a.metadata.resourceVersion}`);
  t.after(() => kept.close());
  await eventually(() => assert.deepEqual(types(kept.events), ['ADDED b', 'ADDED c']));

  // A version this server never reached (say, from before a restart) is treated the same way.
  const future = await openWatch(api, `${CM}?watch=true&resourceVersion=${Number(api.resourceVersion()) + 100}`);
  await future.ended;
  assert.equal(future.events[0].object.code, 410);

  // compactHistory() forgets everything retained.
  api.compactHistory();
  const compacted = await openWatch(api, `${CM}?watch=true&resourceVersion=${a.metadata.resourceVersion}`);
  await compacted.ended;
  assert.equal(compacted.events[0].object.code, 410);
});

test('watch: bookmarks only when allowed; timeoutSeconds ends the stream cleanly', async (t) => {
  const api = await startKubeApiServer({ bookmarkIntervalMs: 20 });
  t.after(() => api.close());
  const rv = api.resourceVersion();
  const withBookmarks = await openWatch(api, `${CM}?watch=true&resourceVersion=${rv}&allowWatchBookmarks=true`);
  const without = await openWatch(api, `${CM}?watch=true&resourceVersion=${rv}`);
  t.after(() => (withBookmarks.close(), without.close()));
  await call(api, 'POST', CM, configMap('x'));
  await eventually(() => assert.ok(withBookmarks.events.filter((e) => e.type === 'BOOKMARK').length >= 2));
  const bookmark = withBookmarks.events.findLast((e) => e.type === 'BOOKMARK')!;
  assert.deepEqual(bookmark.object, { kind: 'ConfigMap', apiVersion: 'v1', metadata: { resourceVersion: api.resourceVersion() } });
  await eventually(() => assert.deepEqual(types(without.events), ['ADDED x']));

  const short = await openWatch(api, `${CM}?watch=true&timeoutSeconds=1`);
  await short.ended;
  assert.deepEqual(types(short.events), ['ADDED x']);
});

test('watch: selectors see objects move in (ADDED) and out (DELETED) of the selection', async (t) => {
  const api = await startKubeApiServer();
  t.after(() => api.close());
  const watch = await openWatch(api, `${CM}?watch=true&labelSelector=${encodeURIComponent('app=web,tier in (front,back),!legacy')}`);
  const named = await openWatch(api, `${CM}?watch=true&fieldSelector=${encodeURIComponent('metadata.name=c1')}`);
  const elsewhere = await openWatch(api, '/api/v1/namespaces/kube-system/configmaps?watch=true');
  t.after(() => (watch.close(), named.close(), elsewhere.close()));

  const merge = { 'Content-Type': 'application/merge-patch+json' };
  await call(api, 'POST', CM, configMap('c1', { app: 'web' }));
  await call(api, 'PATCH', `${CM}/c1`, { metadata: { labels: { tier: 'front' } } }, merge);
  await call(api, 'PATCH', `${CM}/c1`, { data: { a: '1' } }, merge);
  await call(api, 'PATCH', `${CM}/c1`, { metadata: { labels: { legacy: 'yes' } } }, merge);
  await call(api, 'POST', CM, configMap('c2', { app: 'web', tier: 'back' }));
  await call(api, 'DELETE', `${CM}/c2`);
  await eventually(() => assert.deepEqual(types(watch.events), ['ADDED c1', 'MODIFIED c1', 'DELETED c1', 'ADDED c2', 'DELETED c2']));
  await eventually(() => assert.deepEqual(types(named.events), ['ADDED c1', 'MODIFIED c1', 'MODIFIED c1', 'MODIFIED c1']));
  assert.equal(elsewhere.events.length, 0);

  // A field a type does not index is a 400, as upstream.
  const bad = await call(api, 'GET', `${CM}?watch=true&fieldSelector=data.a%3D1`);
  assert.equal(bad.status, 400);
  assert.equal(bad.body.message, 'field label not supported: data.a');
});
