/**
 * Compiles an ir.LogFormat into a function building the string, once per snapshot. Two uses,
 * with HAProxy's differences between them:
 * - 'log' (access log lines, `log.format`): absent or empty text prints `-`, samples as they are;
 * - 'value' (set-header/add-header values, redirect targets, set-path): absent prints nothing,
 *   and samples are %-encoded where they hold control characters (HAProxy's LOG_OPT_HTTP), so a
 *   value can never break a head. Literal text is the configuration's UTF-8 as bytes: the heads
 *   are latin1 strings, one character per byte on the wire.
 * `%{+Q}` wraps text in double quotes (an empty one then prints `""`).
 */
import type { ir } from '@switchyard/api';
import type { FetchContext } from './fetches.ts';
import { encodeHttpValue } from './log-encoding.ts';
import { LOG_VARIABLE_TABLE } from './log-variables.ts';
import { compileSample, type Phase } from './sample.ts';
import type { LogRecord, Transaction } from './transaction.ts';
import { toText } from './values.ts';

export type LogFormatMode = 'log' | 'value';
export type LogRenderer = (tx: Transaction, record: LogRecord | null) => string;

type Part = LogRenderer;

function textPart(value: string, quote: boolean, mode: LogFormatMode): string {
  if (value === '') return quote ? '""' : mode === 'log' ? '-' : '';
  return quote ? `"${value}"` : value;
}

function compileVariable(name: string, quote: boolean, mode: LogFormatMode): Part {
  const variable = Object.hasOwn(LOG_VARIABLE_TABLE, name) ? LOG_VARIABLE_TABLE[name] : undefined;
  if (variable === undefined) throw new Error(`unknown log-format variable '%${name}'`);
  switch (variable.kind) {
    case 'text': {
      const read = variable.read;
      return (tx, record) => textPart(read(tx, record) ?? '', quote, mode);
    }
    case 'number': {
      const read = variable.read;
      return (tx, record) => {
        const n = read(tx, record);
        return n === null ? '' : String(n);
      };
    }
    case 'custom': {
      const render = variable.render;
      return (tx, record) => render(tx, record, quote);
    }
  }
}

function compilePart(part: ir.LogFormatPart, context: FetchContext, mode: LogFormatMode, phase: Phase): Part | string {
  switch (part.kind) {
    case 'text':
      return mode === 'value' ? Buffer.from(part.text, 'utf8').toString('latin1') : part.text;
    case 'var':
      return compileVariable(part.name, part.quote, mode);
    case 'sample': {
      const sample = compileSample(part.sample, context, phase);
      const quote = part.quote;
      if (mode === 'value') {
        return (tx) => {
          const v = sample.value(tx);
          return textPart(v === null ? '' : encodeHttpValue(toText(v)), quote, mode);
        };
      }
      return (tx) => {
        const v = sample.value(tx);
        return textPart(v === null ? '' : toText(v), quote, mode);
      };
    }
  }
}

/** Throws an Error naming an unknown variable, fetch or converter. */
export function compileLogFormat(format: ir.LogFormat, context: FetchContext, mode: LogFormatMode, phase: Phase): LogRenderer {
  // Adjacent literal text is merged, and a format of text alone becomes a constant.
  const parts: (Part | string)[] = [];
  for (const p of format) {
    const compiled = compilePart(p, context, mode, phase);
    const last = parts.length - 1;
    if (typeof compiled === 'string' && last >= 0 && typeof parts[last] === 'string') parts[last] = (parts[last] as string) + compiled;
    else parts.push(compiled);
  }
  if (parts.length === 0) return () => '';
  if (parts.length === 1) {
    const only = parts[0]!;
    if (typeof only === 'string') return () => only;
    return only;
  }
  return (tx, record) => {
    let out = '';
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i]!;
      out += typeof part === 'string' ? part : part(tx, record);
    }
    return out;
  };
}
