export * from './types.ts';
export { zodToStructural, jsonSchemaToStructural } from './structural.ts';
export { structuralErrors } from './check.ts';
export { applyDefaults, validate } from './validate.ts';
export { BackendServerCounts, BackendStatus } from '../resources/backend.ts';
export { KINDS, buildCrd, buildCrds, resourceSchema, statusSchema } from './crds.ts';
export type { ResourceKind } from './crds.ts';
export { CRD_HEADER, renderCrd, renderCrdFiles } from './render.ts';
export type { CrdFile } from './render.ts';
