/**
 * The converters, keyed by the catalogue's names (api/src/rules/catalogue.ts CONVERTERS). A
 * factory compiles the arguments once (regular expressions included); the converter then takes a
 * present value, casts it to its input type as HAProxy does, and returns the result or null when
 * it cannot convert (HAProxy's converter failure: the sample then has no value).
 */
import { formatIPv4, maskOf, parseIPv4 } from './ip.ts';
import { toInt, toText, type Present, type SampleValue } from './values.ts';

export type Converter = (value: Present) => SampleValue;
export type ConverterFactory = (args: readonly string[]) => Converter;

function intArg(args: readonly string[], index: number, what: string): number {
  const text = args[index] ?? '';
  if (!/^[+-]?\d{1,15}$/.test(text)) throw new Error(`${what} must be an integer, not '${text}'`);
  return Number(text);
}

function arithmetic(op: (a: number, b: number) => number): ConverterFactory {
  return (args) => {
    const operand = intArg(args, 0, 'the operand');
    return (value) => {
      const n = toInt(value);
      return n === null ? null : op(n, operand);
    };
  };
}

// ---- regsub ----

type ReplacementPart = string | number;

/**
 * HAProxy's replacement syntax (exp_replace): `\1`..`\9` are groups (`\0` the whole match),
 * `\xHH` a byte, `\c` the character c. Compiled to literal strings and group numbers, applied by
 * a function so that `$` in the replacement stays literal, unlike String.replace's own syntax.
 */
function parseReplacement(text: string): ReplacementPart[] {
  const parts: ReplacementPart[] = [];
  let literal = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c !== '\\' || i + 1 === text.length) {
      literal += c;
      continue;
    }
    const next = text[++i]!;
    if (next >= '0' && next <= '9') {
      if (literal !== '') parts.push(literal);
      literal = '';
      parts.push(Number(next));
    } else if (next === 'x' && /^[0-9a-fA-F]{2}$/.test(text.slice(i + 1, i + 3))) {
      literal += String.fromCharCode(parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else literal += next;
  }
  if (literal !== '') parts.push(literal);
  return parts;
}

const regsub: ConverterFactory = (args) => {
  const flags = args[2] ?? '';
  if (!/^[ig]*$/.test(flags)) throw new Error(`regsub flags may only be 'i' and 'g', not '${flags}'`);
  const regex = new RegExp(args[0] ?? '', (flags.includes('i') ? 'i' : '') + (flags.includes('g') ? 'g' : ''));
  const parts = parseReplacement(args[1] ?? '');
  // A replacement without groups is a plain string; `$` must then be escaped for String.replace.
  if (parts.every((p) => typeof p === 'string')) {
    const plain = (parts as string[]).join('').replaceAll('$', '$$$$');
    return (value) => toText(value).replace(regex, plain);
  }
  const replace = (...match: unknown[]): string => {
    let out = '';
    for (const part of parts) {
      if (typeof part === 'string') out += part;
      else {
        const group = match[part];
        if (typeof group === 'string') out += group;
      }
    }
    return out;
  };
  return (value) => toText(value).replace(regex, replace);
};

// ---- field and word ----

function delimiterTest(delimiters: string): (c: number) => boolean {
  if (delimiters.length === 0) throw new Error('the delimiters must not be empty');
  if (delimiters.length === 1) {
    const only = delimiters.charCodeAt(0);
    return (c) => c === only;
  }
  return (c) => delimiters.indexOf(String.fromCharCode(c)) >= 0;
}

/** field(index,delimiters): fields between single delimiters (empty ones count), 1-based, negative from the end. */
const field: ConverterFactory = (args) => {
  const index = intArg(args, 0, 'the field index');
  const isDelimiter = delimiterTest(args[1] ?? '');
  if (index === 0) return () => null;
  return (value) => {
    const text = toText(value);
    if (index > 0) {
      let n = 1;
      let start = 0;
      for (let i = 0; i < text.length; i++) {
        if (!isDelimiter(text.charCodeAt(i))) continue;
        if (n === index) return text.slice(start, i);
        n++;
        start = i + 1;
      }
      return n === index ? text.slice(start) : null;
    }
    let n = -1;
    let end = text.length;
    for (let i = text.length; i > 0; i--) {
      if (!isDelimiter(text.charCodeAt(i - 1))) continue;
      if (n === index) return text.slice(i, end);
      n--;
      end = i - 1;
    }
    return n === index ? text.slice(0, end) : null;
  };
};

/** word(index,delimiters): like field, but runs of delimiters separate words and empty words do not exist. */
const word: ConverterFactory = (args) => {
  const index = intArg(args, 0, 'the word index');
  const isDelimiter = delimiterTest(args[1] ?? '');
  if (index === 0) return () => null;
  return (value) => {
    const text = toText(value);
    const length = text.length;
    let n = 0;
    if (index > 0) {
      for (let i = 0; i < length; ) {
        while (i < length && isDelimiter(text.charCodeAt(i))) i++;
        if (i === length) break;
        const start = i;
        while (i < length && !isDelimiter(text.charCodeAt(i))) i++;
        if (++n === index) return text.slice(start, i);
      }
      return null;
    }
    for (let i = length; i > 0; ) {
      while (i > 0 && isDelimiter(text.charCodeAt(i - 1))) i--;
      if (i === 0) break;
      const end = i;
      while (i > 0 && !isDelimiter(text.charCodeAt(i - 1))) i--;
      if (--n === index) return text.slice(i, end);
    }
    return null;
  };
};

const ipmask: ConverterFactory = (args) => {
  const bits = intArg(args, 0, 'the mask length');
  if (bits < 0 || bits > 32) throw new Error(`the IPv4 mask length must be 0 to 32, not ${bits}`);
  const mask = maskOf(bits);
  return (value) => {
    // IPv4 only: HAProxy needs a second (IPv6) mask argument for IPv6 addresses.
    const address = typeof value === 'string' ? parseIPv4(value) : -1;
    return address < 0 ? null : formatIPv4((address & mask) >>> 0);
  };
};

export const CONVERTER_TABLE: Readonly<Record<string, ConverterFactory>> = {
  lower: () => (value) => toText(value).toLowerCase(),
  upper: () => (value) => toText(value).toUpperCase(),
  length: () => (value) => toText(value).length,
  regsub,
  field,
  word,
  add: arithmetic((a, b) => a + b),
  sub: arithmetic((a, b) => a - b),
  mul: arithmetic((a, b) => a * b),
  // Integer division truncates toward zero as in C; HAProxy answers a division by zero with the
  // largest integer, here the largest one a JavaScript number holds exactly.
  div: arithmetic((a, b) => (b === 0 ? Number.MAX_SAFE_INTEGER : Math.trunc(a / b))),
  ipmask,
};
