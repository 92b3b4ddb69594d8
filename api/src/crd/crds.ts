/**
 * The three CustomResourceDefinitions, derived from the zod spec schemas (the single source of
 * truth). Pure: `npm run crds` (scripts/generate-crds.ts) writes them to crds/.
 */
import type { z } from 'zod';
import { BackendSpec, BackendStatus } from '../resources/backend.ts';
import { GROUP, Status, VERSION } from '../resources/common.ts';
import { FrontendSpec } from '../resources/frontend.ts';
import { HealthPolicySpec } from '../resources/health-policy.ts';
import { structuralErrors } from './check.ts';
import { zodToStructural } from './structural.ts';
import type { CustomResourceDefinition, JSONSchemaProps, PrinterColumn } from './types.ts';

export interface ResourceKind {
  kind: string;
  plural: string;
  singular: string;
  shortNames: string[];
  description: string;
  spec: z.ZodType;
  status: z.ZodType;
  columns: PrinterColumn[];
}

const condition = (type: string, description: string, priority?: number): PrinterColumn => ({
  name: type,
  type: 'string',
  jsonPath: `.status.conditions[?(@.type=="${type}")].status`,
  description,
  ...(priority === undefined ? {} : { priority }),
});
const accepted = condition('Accepted', 'The spec is valid and compiled.');
const programmed = condition('Programmed', 'Every connected data plane runs the configuration.');
const dataPlanes: PrinterColumn = {
  name: 'Data Planes',
  type: 'string',
  jsonPath: '.status.conditions[?(@.type=="Programmed")].message',
  description: 'Data planes running the configuration, or which one rejected it.',
  priority: 1,
};
const age: PrinterColumn = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' };

export const KINDS: readonly ResourceKind[] = [
  {
    kind: 'Frontend',
    plural: 'frontends',
    singular: 'frontend',
    shortNames: ['fe'],
    description: 'Frontend is a listener (HAProxy frontend): binds, rules and the choice of Backend.',
    spec: FrontendSpec,
    status: Status,
    columns: [
      { name: 'Mode', type: 'string', jsonPath: '.spec.mode', description: 'http or tcp.' },
      { name: 'Port', type: 'integer', jsonPath: '.spec.binds[0].port', description: 'Port of the first bind.' },
      { name: 'Default Backend', type: 'string', jsonPath: '.spec.defaultBackend.name', description: 'Backend for traffic no rule picked.' },
      { name: 'VIP', type: 'string', jsonPath: '.spec.vip.address', description: 'Virtual IP held by one data-plane pod.', priority: 1 },
      accepted,
      programmed,
      dataPlanes,
      age,
    ],
  },
  {
    kind: 'Backend',
    plural: 'backends',
    singular: 'backend',
    shortNames: ['be'],
    description: 'Backend is a server pool (HAProxy backend): servers, balancing, persistence, health checks.',
    spec: BackendSpec,
    status: BackendStatus,
    columns: [
      { name: 'Mode', type: 'string', jsonPath: '.spec.mode', description: 'http or tcp.' },
      { name: 'Balance', type: 'string', jsonPath: '.spec.balance', description: 'Load-balancing algorithm.' },
      { name: 'Servers', type: 'integer', jsonPath: '.status.servers.total', description: 'Servers in the pool.' },
      { name: 'Up', type: 'integer', jsonPath: '.status.servers.up', description: 'Servers passing their health checks.' },
      { name: 'Down', type: 'integer', jsonPath: '.status.servers.down', description: 'Servers failing their health checks.', priority: 1 },
      { name: 'Maint', type: 'integer', jsonPath: '.status.servers.maintenance', description: 'Servers in maintenance.', priority: 1 },
      { name: 'Health Policy', type: 'string', jsonPath: '.spec.healthPolicyRef.name', description: 'HealthPolicy checking the servers.', priority: 1 },
      accepted,
      programmed,
      dataPlanes,
      age,
    ],
  },
  {
    kind: 'HealthPolicy',
    plural: 'healthpolicies',
    singular: 'healthpolicy',
    shortNames: ['hp'],
    description: 'HealthPolicy says how a server is judged alive (HAProxy check, option httpchk, http-check).',
    spec: HealthPolicySpec,
    status: Status,
    columns: [
      { name: 'Interval', type: 'string', jsonPath: '.spec.interval', description: 'Time between checks.' },
      { name: 'Rise', type: 'integer', jsonPath: '.spec.rise', description: 'Consecutive successes to mark a server up.' },
      { name: 'Fall', type: 'integer', jsonPath: '.spec.fall', description: 'Consecutive failures to mark a server down.' },
      accepted,
      programmed,
      dataPlanes,
      age,
    ],
  },
];

/** The status schema: conditions are a map keyed by type, so server-side apply merges them. */
export function statusSchema(status: z.ZodType): JSONSchemaProps {
  const schema = zodToStructural(status);
  const conditions = schema.properties?.conditions;
  if (conditions === undefined) throw new Error('status has no conditions');
  schema.properties!.conditions = { ...conditions, 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] };
  return schema;
}

/** The openAPIV3Schema of one kind. */
export function resourceSchema(r: ResourceKind): JSONSchemaProps {
  return {
    description: r.description,
    type: 'object',
    properties: {
      apiVersion: { description: `${GROUP}/${VERSION}`, type: 'string' },
      kind: { description: r.kind, type: 'string' },
      metadata: { type: 'object' },
      spec: zodToStructural(r.spec),
      status: statusSchema(r.status),
    },
    required: ['spec'],
  };
}

export function buildCrd(r: ResourceKind): CustomResourceDefinition {
  const schema = resourceSchema(r);
  const errors = structuralErrors(schema);
  if (errors.length > 0) throw new Error(`${r.kind} CRD schema is not structural:\n  ${errors.join('\n  ')}`);
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${r.plural}.${GROUP}`, labels: { 'app.kubernetes.io/part-of': 'switchyard' } },
    spec: {
      group: GROUP,
      names: {
        kind: r.kind,
        listKind: `${r.kind}List`,
        plural: r.plural,
        singular: r.singular,
        shortNames: [...r.shortNames],
        categories: ['switchyard'],
      },
      scope: 'Namespaced',
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: r.columns.map((c) => ({ ...c })),
          schema: { openAPIV3Schema: schema },
        },
      ],
    },
  };
}

/** Frontend, Backend and HealthPolicy, in that order. */
export function buildCrds(): CustomResourceDefinition[] {
  return KINDS.map(buildCrd);
}
