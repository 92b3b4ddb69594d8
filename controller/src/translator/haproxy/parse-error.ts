/**
 * An error in a condition, sample or log format, at a 1-based column of the string it was found
 * in: what HAProxy users get from `haproxy -c` (a line and a word), here as a field path (added
 * by the caller) plus a column.
 */
export class ParseError extends Error {
  /** 1-based column in the source string. */
  readonly column: number;

  constructor(column: number, message: string) {
    super(message);
    this.name = 'ParseError';
    this.column = column;
  }
}

/** Stops parsing with an error at `index` (0-based) of the source string. */
export function fail(index: number, message: string): never {
  throw new ParseError(index + 1, message);
}

/** `"word"` quoted for a message, cut when long. */
export function quoted(text: string): string {
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 37)}...` : text);
}
