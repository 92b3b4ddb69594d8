export { KubernetesProvider } from './provider.ts';
export type { InformerKind, KubernetesProviderOptions, ProviderLogger, TokenSecretRef } from './provider.ts';
export type { World, WorldChanges } from './store.ts';
export type { BackoffOptions } from './backoff.ts';
