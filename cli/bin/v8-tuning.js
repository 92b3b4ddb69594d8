// V8 settings for the switchyard command, shared by the bin (switchyard.js) and the install-time
// compile-cache warm-up (scripts/warm-compile-cache.js). Plain JavaScript: it runs before the
// compile cache is enabled, and a .ts import would load Node's type stripper (compile-cache.js).
//
// Set before the compile cache is enabled: Node keys the cache by the V8 flags, and worker
// threads, which enable it when they start, would otherwise look in another folder than the main
// thread and the warm-up filled. V8 flags are process-wide, so worker threads have them too.
//
// --no-allocation-site-pretenuring: V8 allocates objects from an allocation site (an object or
// array literal) straight into the old generation once most of them have survived a scavenge.
// A proxy has sites shared by long-lived and short-lived owners (a pooled upstream socket and a
// client socket that lives one request, say): once such a site is pretenured, the garbage of
// every finished connection is kept through scavenges by dead old-generation objects until the
// next full collection. Measured with a new connection per request (wrk -c50, one core): without
// this flag most starts settled into 25-53% of young objects surviving each scavenge, scavenges
// of 20-35 ms and p99 32-41 ms; with it, 0.0-0.4% survived, scavenges took 0.4 ms and p99 was
// 13-19 ms (4 runs each); in `make bench` that p99 went from 7.7x to 1.06x HAProxy's. Keep-alive
// and TCP mode measured the same with and without it. V8 reads the flag when it decides, at each
// scavenge, so setting it once the process runs works. It applies to every command; the
// controller was not measured with and without it.
//
// --semi-space-growth-factor=1: the young generation keeps the size it starts with (2 MiB in
// all, heap statistics' new space) instead of doubling toward its maximum whenever many
// objects survive a scavenge, as they do when thousands of connections open at once: 45-53
// MiB after 10,000 connections opened. V8 seldom gives that memory back, and each worker
// thread has its own young generation. --max-semi-space-size would say
// the same, but only on Node's command line, before the isolate is configured; the growth
// factor is read at each growth, so setting it here works. Measured on one core (lab: the
// proxy on CPU 0, wrk and nginx on CPU 1): 10,000 idle connections after a keep-alive warm-up,
// 171 MiB before and 125 MiB after; keep-alive requests/s the same (42-50k either way), p99 of
// TCP mode 1.3-1.7 ms instead of 7-9, of a new connection per request 9-13 ms instead of
// 13-20. Bulk transfers lose a little (1 MiB responses 1.64-1.68 GB/s against 1.76-1.83)
// once read buffers are reused (sockets/reader.ts); before that they lost a third, to full
// collections for the external memory of the buffers.
import { setFlagsFromString } from 'node:v8';

export function tuneV8ForProxying() {
  setFlagsFromString('--no-allocation-site-pretenuring');
  setFlagsFromString('--semi-space-growth-factor=1');
}
