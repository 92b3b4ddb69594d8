/**
 * Cookie and Set-Cookie values read the way HAProxy reads them (http_ana.c, the client and server
 * side cookie managers), so that the same header selects the same cookie:
 *
 * - a Cookie value is a list of `name=value` items separated by `;` or `,`; blanks (SP, HTAB)
 *   around names and values are ignored; a value ends at the first `;` or `,` outside double
 *   quotes; items without `=` and `$`-attributes (RFC 2109 `$Path`...) are not cookies;
 * - a Set-Cookie value holds one cookie: its name runs to the first `=` or `;`, its value to the
 *   first `;` or `,` outside quotes; what follows is attributes.
 *
 * The scanner only computes offsets into the value, so walking a header allocates nothing.
 */

const SP = 0x20;
const HTAB = 0x09;
const EQUAL = 0x3d;
const SEMICOLON = 0x3b;
const COMMA = 0x2c;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

function isBlank(code: number): boolean {
  return code === SP || code === HTAB;
}

/** The end of a cookie value starting at `from`: the first `;` or `,` outside quotes, or the end. */
function valueEnd(text: string, from: number): number {
  let quoted = false;
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (quoted) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) quoted = false;
    } else if (c === QUOTE) quoted = true;
    else if (c === SEMICOLON || c === COMMA) return i;
  }
  return text.length;
}

/**
 * Walks the items of one Cookie header value (reset, then next() until false), or reads the
 * cookie of one Set-Cookie value (resetSetCookie, then one next()). Offsets are into `text`.
 */
export class CookieScanner {
  text = '';
  /** The delimiter before this item, or -1 for the first item. */
  delimiter = -1;
  /** The item's first non-blank character. */
  start = 0;
  /** Just past the name's last non-blank character. */
  nameEnd = 0;
  /** The value's first non-blank character, or -1 when the item has no `=`. */
  valueStart = -1;
  /** Just past the value's last non-blank character (nameEnd when there is no `=`). */
  valueEnd = 0;
  /** The delimiter ending the item, or the end of the text. */
  end = 0;
  private prev = 0;
  private first = true;
  private setCookie = false;

  reset(text: string): this {
    this.text = text;
    this.prev = 0;
    this.first = true;
    this.setCookie = false;
    return this;
  }

  resetSetCookie(text: string): this {
    this.reset(text);
    this.setCookie = true;
    return this;
  }

  next(): boolean {
    const text = this.text;
    const length = text.length;
    // A Set-Cookie header carries a single cookie; the rest are its attributes.
    if (this.prev >= length || (this.setCookie && !this.first)) return false;
    let at = this.first ? this.prev : this.prev + 1;
    this.delimiter = this.first ? -1 : this.prev;
    this.first = false;
    while (at < length && isBlank(text.charCodeAt(at))) at++;
    this.start = at;
    let equal = at;
    let nameEnd = at;
    while (equal < length) {
      const c = text.charCodeAt(equal);
      if (c === EQUAL || c === SEMICOLON || (c === COMMA && !this.setCookie)) break;
      equal++;
      if (!isBlank(c)) nameEnd = equal;
    }
    this.nameEnd = nameEnd;
    if (equal < length && text.charCodeAt(equal) === EQUAL) {
      let start = equal + 1;
      while (start < length && isBlank(text.charCodeAt(start))) start++;
      const next = valueEnd(text, start);
      let end = next;
      while (end > start && isBlank(text.charCodeAt(end - 1))) end--;
      this.valueStart = start;
      this.valueEnd = end;
      this.end = next;
    } else {
      this.valueStart = -1;
      this.valueEnd = nameEnd;
      this.end = equal;
    }
    this.prev = this.end;
    return true;
  }

  /** Whether the current item is a cookie (has `=`) named exactly `name` (names are case-sensitive). */
  is(name: string): boolean {
    return this.valueStart >= 0 && this.nameEnd - this.start === name.length && this.text.startsWith(name, this.start);
  }

  /** Whether the current item is an RFC 2109 attribute (`$Version`, `$Path`...), which belongs to the cookie before it. */
  get isAttribute(): boolean {
    return this.text.charCodeAt(this.start) === 0x24;
  }
}
