/**
 * `meta.k8s.io/v1` Table output, which `kubectl get` asks for (`Accept: …;as=Table;v=v1;g=meta.k8s.io`,
 * reference §3.14). Columns: Name, then the CRD's additionalPrinterColumns (or Age). Cells follow
 * apiextensions' tableconvertor: string columns print the JSONPath match, numbers and booleans stay
 * typed, dates become a human duration ("5m"), a missing value is null.
 */
import { compileJsonPath } from './jsonpath.ts';
import type { PrinterColumn, ResourceType } from './registry.ts';
import type { JsonObject, KubeObject } from './types.ts';

export const wantsTable = (accept: string | undefined): boolean => accept !== undefined && /as=Table/.test(accept);

const NAME_COLUMN = {
  name: 'Name',
  type: 'string',
  format: 'name',
  description: 'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names',
  priority: 0,
};
const AGE_COLUMN: PrinterColumn = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp', description: 'CreationTimestamp is a timestamp representing the server time when this object was created.' };

const columnsOf = (type: ResourceType): PrinterColumn[] => type.printerColumns ?? [AGE_COLUMN];

export function toTable(type: ResourceType, objects: KubeObject[], listMeta: JsonObject, withHeaders = true, now = Date.now()): JsonObject {
  const columns = columnsOf(type);
  const paths = columns.map((c) => compileJsonPath(c.jsonPath));
  const columnDefinitions = withHeaders
    ? [NAME_COLUMN, ...columns.map((c) => ({ name: c.name, type: c.type, format: c.format ?? '', description: c.description ?? '', priority: c.priority ?? 0 }))]
    : [];
  const rows = objects.map((obj) => ({
    cells: [obj.metadata.name, ...columns.map((c, i) => cell(c.type, paths[i](obj), now))],
    object: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj.metadata },
  }));
  return { kind: 'Table', apiVersion: 'meta.k8s.io/v1', metadata: listMeta, columnDefinitions, rows };
}

function cell(type: string, matches: unknown[], now: number): unknown {
  if (matches.length === 0) return null;
  const value = matches[0];
  switch (type) {
    case 'string':
      return typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value);
    case 'integer':
      return typeof value === 'number' ? Math.trunc(value) : null;
    case 'number':
      return typeof value === 'number' ? value : null;
    case 'boolean':
      return typeof value === 'boolean' ? value : null;
    case 'date': {
      const t = typeof value === 'string' ? Date.parse(value) : NaN;
      return Number.isNaN(t) ? null : humanDuration(now - t);
    }
    default:
      return null;
  }
}

/** apimachinery's `duration.HumanDuration`. */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) return hours % 24 === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${hours % 24}h`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  const days = Math.floor(hours / 24);
  if (hours < 24 * 365 * 8) return days % 365 === 0 ? `${Math.floor(days / 365)}y` : `${Math.floor(days / 365)}y${days % 365}d`;
  return `${Math.floor(days / 365)}y`;
}
