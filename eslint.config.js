// Lint rules, including who may import whom (docs/architecture.md, "Who may import whom").
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const restrict = (patterns) => ({ 'no-restricted-imports': ['error', { patterns }] });
const noDataplane = { group: ['@switchyard/dataplane', '**/dataplane/src/**'], message: 'controller must not import the data plane' };
const noController = { group: ['@switchyard/controller', '**/controller/src/**'], message: 'the data plane must not import the controller' };

export default tseslint.config(
  { ignores: ['node_modules/**', '**/node_modules/**', '.dev-cluster/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', setImmediate: 'readonly', performance: 'readonly', URL: 'readonly', AbortController: 'readonly', AbortSignal: 'readonly', structuredClone: 'readonly', queueMicrotask: 'readonly', TextEncoder: 'readonly', TextDecoder: 'readonly', fetch: 'readonly' } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    files: ['api/src/**'],
    ignores: ['**/*.test.ts'],
    rules: restrict([
      { group: ['node:*', 'fs', 'net', 'http', 'child_process'], message: 'api is pure: no I/O' },
      { group: ['@switchyard/*', '**/controller/**', '**/dataplane/**', '**/cli/**'], message: 'api imports nothing of ours' },
    ]),
  },
  { files: ['controller/src/**'], rules: restrict([noDataplane]) },
  {
    files: ['controller/src/translator/**'],
    ignores: ['**/*.test.ts'],
    rules: restrict([
      noDataplane,
      { group: ['node:*', '@kubernetes/*', 'ws', 'fastify', 'pino', 'prom-client'], message: 'the translator is pure: no I/O, clock or logging' },
    ]),
  },
  {
    files: ['controller/src/provider/**'],
    ignores: ['**/*.test.ts'],
    rules: restrict([
      noDataplane,
      {
        group: ['**/translator/*', '!**/translator/types.ts', '!**/translator/translate.ts'],
        message: 'the provider produces the translator input: it may use the translator types, not its internals',
      },
      { group: ['**/channel/**', '**/pipeline/**', '**/status/**', '**/leader/**', '**/admin/**'], message: 'the provider knows nothing downstream of it' },
    ]),
  },
  {
    // The leader's status writer and the fleet view: api, client-node and the channel's contract files only
    // (plus the controller-wide controller/src/clock.ts and kube-time.ts, which no pattern here matches).
    files: ['controller/src/status/**', 'controller/src/fleet/**'],
    ignores: ['**/*.test.ts'],
    rules: restrict([
      noDataplane,
      { group: ['**/provider/**', '**/leader/**', '**/admin/**', 'ws', 'fastify', 'prom-client'], message: 'status and fleet use api, client-node and the channel contracts only' },
      { group: ['**/channel/*', '!**/channel/fleet.ts', '!**/channel/versioned-snapshot.ts'], message: 'only the channel contracts (fleet.ts, versioned-snapshot.ts)' },
      { group: ['**/translator/*', '!**/translator/types.ts'], message: 'only the translator types (ResourceResult)' },
    ]),
  },
  { files: ['dataplane/src/**'], rules: restrict([noController]) },
  {
    files: ['dataplane/src/lb/**'],
    ignores: ['**/*.test.ts'],
    rules: restrict([noController, { group: ['node:net', 'node:timers', '**/health/**', '**/proxy/**'], message: 'lb is pure: no sockets, timers, health or proxy' }]),
  },
  {
    files: ['dataplane/src/health/**'],
    ignores: ['**/*.test.ts'],
    rules: restrict([noController, { group: ['**/lb/**', '**/proxy/**'], message: 'health emits events; it does not know lb or proxy' }]),
  },
);
