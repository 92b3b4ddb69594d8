export * from './resources/common.ts';
export * from './resources/health-policy.ts';
export * from './resources/backend.ts';
export * from './resources/frontend.ts';
export * from './conditions.ts';
export type * as ir from './snapshot/ir.ts';
export * from './snapshot/schema.ts';
export * from './protocol/messages.ts';
export * from './rules/catalogue.ts';
