/**
 * HAProxy's log dates: `%t`/`%tr` in local time with milliseconds (date2str_log,
 * `21/Nov/2026:13:55:36.123`) and `%T` in GMT with its offset (gmt2str_log,
 * `21/Nov/2026:13:55:36 +0000`). The part down to the second is cached: log lines of the same
 * second, the common case under load, reuse it.
 */
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function pad2(n: number): string {
  return n < 10 ? `0${n}` : `${n}`;
}

export function pad3(n: number): string {
  return n < 10 ? `00${n}` : n < 100 ? `0${n}` : `${n}`;
}

let localSecond = Number.NaN;
let localPrefix = '';

/** `dd/Mon/yyyy:HH:MM:SS.mmm` in the process's local time zone. */
export function localLogDate(epochMs: number): string {
  const second = Math.floor(epochMs / 1000);
  if (second !== localSecond) {
    const d = new Date(second * 1000);
    localPrefix = `${pad2(d.getDate())}/${MONTHS[d.getMonth()]}/${d.getFullYear()}:${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}.`;
    localSecond = second;
  }
  return localPrefix + pad3(epochMs - second * 1000);
}

let gmtSecond = Number.NaN;
let gmtText = '';

/** `dd/Mon/yyyy:HH:MM:SS +0000`. */
export function gmtLogDate(epochMs: number): string {
  const second = Math.floor(epochMs / 1000);
  if (second !== gmtSecond) {
    const d = new Date(second * 1000);
    gmtText = `${pad2(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())} +0000`;
    gmtSecond = second;
  }
  return gmtText;
}
