/**
 * Splitting a condition or criterion into words, as HAProxy's configuration parser does: spaces
 * separate words, quotes and backslashes protect them. Words keep their raw text and position
 * (columns in errors point at the source); `unquote` gives a pattern's value.
 *
 * One liberty: inside a word that starts like a name (`hdr(`, `regsub(`), spaces within
 * parentheses do not split it, so `regsub(a b,c)` is one sample, not a syntax error.
 */
import { fail } from './parse-error.ts';

export interface Word {
  /** As written, quotes and backslashes included. */
  text: string;
  /** 0-based index of its first character in the source. */
  start: number;
}

const SPACE = /\s/;
const NAME_START = /[A-Za-z_]/;

/** Index just past the quoted section opening at `i`. */
function skipQuoted(source: string, i: number, to: number): number {
  const q = source[i]!;
  let j = i + 1;
  while (j < to && source[j] !== q) j += q === '"' && source[j] === '\\' ? 2 : 1;
  if (j >= to) fail(i, `unterminated quote ${q} (write \\${q} for a literal ${q})`);
  return j + 1;
}

/** The words of `source[from, to)`. */
export function splitWords(source: string, from = 0, to = source.length): Word[] {
  const words: Word[] = [];
  let i = from;
  while (i < to) {
    if (SPACE.test(source[i]!)) {
      i++;
      continue;
    }
    const start = i;
    const nested = NAME_START.test(source[i]!);
    let depth = 0;
    let open = -1;
    while (i < to) {
      const c = source[i]!;
      if (c === '\\') {
        i += 2;
        continue;
      }
      if (c === '"' || c === "'") {
        i = skipQuoted(source, i, to);
        continue;
      }
      if (depth === 0 && SPACE.test(c)) break;
      if (nested && c === '(') {
        if (depth === 0) open = i;
        depth++;
      } else if (nested && c === ')' && depth > 0) {
        depth--;
      }
      i++;
    }
    if (depth > 0) fail(open, 'unclosed "(": add ")" or quote the text');
    i = Math.min(i, to);
    words.push({ text: source.slice(start, i), start });
  }
  return words;
}

/**
 * A word's value: quotes removed, `\x` gives `x` (inside double quotes too), single quotes keep
 * everything literally.
 */
export function unquote(text: string): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '\\' && i + 1 < text.length) {
      out += text[i + 1];
      i += 2;
    } else if (c === '"' || c === "'") {
      i++;
      while (i < text.length && text[i] !== c) {
        if (c === '"' && text[i] === '\\' && i + 1 < text.length) i++;
        out += text[i];
        i++;
      }
      i++;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}
