// Whether this Node runs the command's TypeScript sources directly (type stripping without a flag,
// 23.6 and later). Shared by the bin (switchyard.js), which refuses to start without it, and the
// install-time warm-up (scripts/warm-compile-cache.js), which then has nothing to warm. Plain
// JavaScript, so that an older Node can load it to find out.
export function runsTypeScript() {
  const [major, minor] = process.versions.node.split('.').map(Number);
  return major > 23 || (major === 23 && minor >= 6);
}
