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
import { setFlagsFromString } from 'node:v8';

export function tuneV8ForProxying() {
  setFlagsFromString('--no-allocation-site-pretenuring');
}
