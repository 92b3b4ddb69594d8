/**
 * Tracks chunked transfer coding (RFC 9112 section 7.1) in a byte stream that is forwarded as
 * it is, so the proxy knows where a message ends without buffering it. Strict: chunk sizes are
 * hex without sign or white space, lines end in CRLF, extensions and trailers are bounded.
 * With `onData` set it also yields the payload, for the rare HTTP/1.0 client that cannot take
 * chunked responses.
 */
const SIZE = 0;
const SIZE_EXT = 1;
const SIZE_LF = 2;
const DATA = 3;
const DATA_CR = 4;
const DATA_LF = 5;
const TRAILER_START = 6;
const TRAILER_LINE = 7;
const TRAILER_LF = 8;
const FINAL_LF = 9;
const DONE = 10;

const MAX_LINE = 4096;
const MAX_SIZE_DIGITS = 13; // 2^52: far beyond any real body, still exact in a double

export class ChunkedTracker {
  private state = SIZE;
  private remaining = 0;
  private digits = 0;
  private lineLength = 0;
  error: string | null = null;
  onData: ((buf: Buffer, start: number, end: number) => void) | null = null;

  reset(): void {
    this.state = SIZE;
    this.remaining = 0;
    this.digits = 0;
    this.lineLength = 0;
    this.error = null;
  }

  get done(): boolean {
    return this.state === DONE;
  }

  /**
   * Consumes buf[start..end). Returns the index just past the message's last byte when the
   * message ends inside this range, `end` when more is needed, or -1 on a framing error.
   */
  feed(buf: Buffer, start: number, end: number): number {
    let i = start;
    while (i < end) {
      switch (this.state) {
        case DATA: {
          const take = Math.min(this.remaining, end - i);
          if (this.onData) this.onData(buf, i, i + take);
          this.remaining -= take;
          i += take;
          if (this.remaining === 0) this.state = DATA_CR;
          continue;
        }
        case SIZE: {
          const c = buf[i]!;
          const v = hexValue(c);
          if (v >= 0) {
            if (++this.digits > MAX_SIZE_DIGITS) return this.fail('chunk size too large');
            this.remaining = this.remaining * 16 + v;
          } else if (this.digits === 0) return this.fail('invalid chunk size');
          else if (c === 0x0d) this.state = SIZE_LF;
          else if (c === 0x3b) {
            this.state = SIZE_EXT;
            this.lineLength = 0;
          } else return this.fail('invalid chunk size');
          break;
        }
        case SIZE_EXT: {
          const c = buf[i]!;
          if (c === 0x0d) this.state = SIZE_LF;
          else if (c === 0x0a || (c < 0x20 && c !== 0x09) || ++this.lineLength > MAX_LINE) return this.fail('invalid chunk extension');
          break;
        }
        case SIZE_LF:
          if (buf[i] !== 0x0a) return this.fail('chunk size line not ended by CRLF');
          this.digits = 0;
          this.state = this.remaining === 0 ? TRAILER_START : DATA;
          break;
        case DATA_CR:
          if (buf[i] !== 0x0d) return this.fail('chunk data not followed by CRLF');
          this.state = DATA_LF;
          break;
        case DATA_LF:
          if (buf[i] !== 0x0a) return this.fail('chunk data not followed by CRLF');
          this.state = SIZE;
          break;
        case TRAILER_START: {
          const c = buf[i]!;
          if (c === 0x0d) this.state = FINAL_LF;
          else {
            this.state = TRAILER_LINE;
            this.lineLength = 1;
          }
          break;
        }
        case TRAILER_LINE: {
          const c = buf[i]!;
          if (c === 0x0d) this.state = TRAILER_LF;
          else if (c === 0x0a || ++this.lineLength > MAX_LINE) return this.fail('invalid trailer');
          break;
        }
        case TRAILER_LF:
          if (buf[i] !== 0x0a) return this.fail('invalid trailer');
          this.state = TRAILER_START;
          break;
        case FINAL_LF:
          if (buf[i] !== 0x0a) return this.fail('chunked body not ended by CRLF');
          this.state = DONE;
          return i + 1;
        default:
          return i;
      }
      i++;
    }
    return end;
  }

  private fail(reason: string): number {
    this.error = reason;
    return -1;
  }
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}
