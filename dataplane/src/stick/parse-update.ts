/**
 * Validation of StickUpdate messages (wire.ts) from untrusted sources: a peer's frame. A module of
 * its own so that worker threads, which only exchange updates with their main thread, never load
 * zod (several MiB of heap in each thread).
 */
import { z } from 'zod';
import { columnWidth, parseColumn } from './layout.ts';
import type { StickDataType } from './types.ts';
import { WIRE_HEADER, type StickUpdate } from './wire.ts';

const MAX_KEY = 4096;
const MAX_ID = 512;

const Envelope = z.object({
  v: z.literal(1),
  origin: z.string().min(1).max(MAX_ID),
  sentAt: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  tables: z.array(
    z.object({
      name: z.string().min(1).max(MAX_ID),
      type: z.enum(['ip', 'ipv6', 'string', 'integer']),
      columns: z.array(z.string().max(64)).max(16),
      origins: z.array(z.string().min(1).max(MAX_ID)).max(100_000),
      // Rows are checked below, by hand: many, and the error should name the number at fault.
      rows: z.array(z.unknown()),
    }),
  ),
});

/** Validates untrusted input (a peer's frame, another thread's message); the error names the field. */
export function parseStickUpdate(json: unknown): StickUpdate | { error: string } {
  const parsed = Envelope.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { error: issue === undefined ? 'invalid update' : `${issue.path.join('.') || '(update)'}: ${issue.message}` };
  }
  const update = parsed.data;
  for (let t = 0; t < update.tables.length; t++) {
    const error = checkTable(update.tables[t], `tables.${t}`);
    if (error !== null) return { error };
  }
  return update as StickUpdate;
}

/** Per value of a state after the header: what it may hold. */
type Check = 'int' | 'count';

function checkTable(table: z.infer<typeof Envelope>['tables'][number], path: string): string | null {
  const checks: Check[] = [];
  const seen = new Set<string>();
  for (let c = 0; c < table.columns.length; c++) {
    const column = parseColumn(table.columns[c]);
    if (column === null) return `${path}.columns.${c}: unknown data type ${JSON.stringify(table.columns[c])}`;
    if (seen.has(column.type)) return `${path}.columns.${c}: ${column.type} twice`;
    seen.add(column.type);
    checks.push(...valueChecks(column.type));
  }
  const stride = WIRE_HEADER + checks.length;
  for (let r = 0; r < table.rows.length; r++) {
    const row = table.rows[r];
    const at = `${path}.rows.${r}`;
    if (!Array.isArray(row)) return `${at}: expected an array`;
    if (typeof row[0] !== 'string' || row[0].length > MAX_KEY) return `${at}.0: expected a key (a string of at most ${MAX_KEY} characters)`;
    if (row.length === 1 || (row.length - 1) % stride !== 0) return `${at}: expected the key and states of ${stride} numbers, got ${row.length - 1} numbers`;
    for (let i = 1; i < row.length; i++) {
      const value: unknown = row[i];
      if (typeof value !== 'number' || !Number.isSafeInteger(value)) return `${at}.${i}: expected an integer`;
      const k = (i - 1) % stride;
      if (k === 0 && (value < 0 || value >= table.origins.length)) return `${at}.${i}: origin index ${value} out of range`;
      if (k >= WIRE_HEADER && checks[k - WIRE_HEADER] === 'count' && value < 0) return `${at}.${i}: expected a non-negative count`;
    }
  }
  return null;
}

function valueChecks(type: StickDataType): Check[] {
  switch (type) {
    case 'server_id':
      return ['count', 'int'];
    case 'gpc0':
      return ['int'];
    default:
      return columnWidth(type) === 3 ? ['int', 'count', 'count'] : ['count'];
  }
}
