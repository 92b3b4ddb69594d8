/**
 * The sample fetches, converters and log-format variables Switchyard implements, with HAProxy's
 * names. The controller validates conditions, samples and log formats against this table (an
 * unknown fetch is an error with its column); the data plane implements exactly these. Adding a
 * fetch means adding it here and to the data plane's fetch table (dataplane/src/rules/fetches.ts),
 * whose test checks that the two agree.
 */

/** What a sample yields; decides the default match method (`ip`, `int`, `bool`, `str`). */
export type SampleType = 'str' | 'int' | 'bool' | 'ip';

/** An argument's kind: `int` must be a decimal integer; `counter` is 0, 1 or 2; `table` a stick table (filled in when omitted). */
export type ArgKind = 'str' | 'int' | 'counter' | 'table';

export interface FetchSpec {
  output: SampleType;
  /** Argument kinds in order; `min` of them are required. */
  args: ArgKind[];
  min: number;
  /** Needs the HTTP request (unusable in tcp-request rules), or the response (http-response rules and store-response only). */
  needs: 'none' | 'request' | 'response';
  /** For string fetches whose value is a list (`hdr`), each comma-separated element is matched on its own. */
  multi?: boolean;
}

const conn = (output: SampleType): FetchSpec => ({ output, args: [], min: 0, needs: 'none' });
const req = (output: SampleType, args: ArgKind[] = [], min = args.length, multi = false): FetchSpec => ({ output, args, min, needs: 'request', multi });
const res = (output: SampleType, args: ArgKind[] = [], min = args.length): FetchSpec => ({ output, args, min, needs: 'response' });
const sc: FetchSpec = { output: 'int', args: ['counter'], min: 1, needs: 'none' };
const srcTable: FetchSpec = { output: 'int', args: ['table'], min: 0, needs: 'none' };

/** Canonical fetch names. */
export const FETCHES: Readonly<Record<string, FetchSpec>> = {
  always_true: conn('bool'),
  always_false: conn('bool'),
  src: conn('ip'),
  src_port: conn('int'),
  dst: conn('ip'),
  dst_port: conn('int'),
  ssl_fc: conn('bool'),
  ssl_fc_sni: conn('str'),
  method: req('str'),
  path: req('str'),
  url: req('str'),
  query: req('str'),
  /** Host header value followed by the path (HAProxy `base`). */
  base: req('str'),
  'req.ver': req('str'),
  url_param: req('str', ['str']),
  /** `hdr(name[,occ])`: occ 1 is the first value, -1 (default) the last, in conditions every value. */
  'req.hdr': req('str', ['str', 'int'], 1, true),
  'req.fhdr': req('str', ['str', 'int'], 1),
  'req.hdr_cnt': req('int', ['str']),
  'req.cook': req('str', ['str']),
  'req.cook_cnt': req('int', ['str']),
  'res.hdr': res('str', ['str', 'int'], 1),
  'res.cook': res('str', ['str']),
  status: res('int'),
  sc_conn_cur: sc,
  sc_conn_cnt: sc,
  sc_conn_rate: sc,
  sc_http_req_cnt: sc,
  sc_http_req_rate: sc,
  sc_http_err_cnt: sc,
  sc_http_err_rate: sc,
  sc_bytes_out_rate: sc,
  sc_get_gpc0: sc,
  sc_inc_gpc0: sc,
  sc_clr_gpc0: sc,
  src_conn_cur: srcTable,
  src_conn_cnt: srcTable,
  src_conn_rate: srcTable,
  src_http_req_cnt: srcTable,
  src_http_req_rate: srcTable,
  src_http_err_cnt: srcTable,
  src_http_err_rate: srcTable,
  src_bytes_out_rate: srcTable,
  src_get_gpc0: srcTable,
  src_inc_gpc0: srcTable,
};

/** Other spellings HAProxy accepts, mapped to canonical names. `sc0_http_req_rate` style names are handled by the parser (`sc_http_req_rate(0)`). */
export const FETCH_ALIASES: Readonly<Record<string, string>> = {
  hdr: 'req.hdr',
  fhdr: 'req.fhdr',
  hdr_cnt: 'req.hdr_cnt',
  cook: 'req.cook',
  cook_cnt: 'req.cook_cnt',
  shdr: 'res.hdr',
  scook: 'res.cook',
  urlp: 'url_param',
  'req.method': 'method',
  'req.path': 'path',
  'txn.status': 'status',
};

/** ACL keyword suffixes that pick the match method of a string fetch: `path_beg` is `path -m beg`. */
export const DERIVED_SUFFIXES: Readonly<Record<string, 'beg' | 'end' | 'sub' | 'reg' | 'dir' | 'dom' | 'len' | 'ip' | 'str'>> = {
  _beg: 'beg',
  _end: 'end',
  _sub: 'sub',
  _reg: 'reg',
  _dir: 'dir',
  _dom: 'dom',
  _len: 'len',
  _ip: 'ip',
};

export interface ConverterSpec {
  input: SampleType | 'any';
  output: SampleType;
  args: ArgKind[];
  min: number;
}

export const CONVERTERS: Readonly<Record<string, ConverterSpec>> = {
  lower: { input: 'str', output: 'str', args: [], min: 0 },
  upper: { input: 'str', output: 'str', args: [], min: 0 },
  length: { input: 'str', output: 'int', args: [], min: 0 },
  /** regsub(regex,replacement[,flags]): flags `i` and `g`. */
  regsub: { input: 'str', output: 'str', args: ['str', 'str', 'str'], min: 2 },
  /** field(index,delimiters): 1-based, negative counts from the end. */
  field: { input: 'str', output: 'str', args: ['int', 'str'], min: 2 },
  word: { input: 'str', output: 'str', args: ['int', 'str'], min: 2 },
  add: { input: 'int', output: 'int', args: ['int'], min: 1 },
  sub: { input: 'int', output: 'int', args: ['int'], min: 1 },
  mul: { input: 'int', output: 'int', args: ['int'], min: 1 },
  div: { input: 'int', output: 'int', args: ['int'], min: 1 },
  /** ipmask(bits): the network of an IPv4 address. */
  ipmask: { input: 'ip', output: 'ip', args: ['int'], min: 1 },
};

/**
 * Log-format variables (`%ci`, `%Tr`...), each with a short description for errors and docs.
 * `%hr`/`%hrl` are the captures (`capture` rules), `%r` the request line as received.
 */
export const LOG_VARIABLES: Readonly<Record<string, string>> = {
  ci: 'client IP',
  cp: 'client port',
  fi: 'frontend IP (accepting address)',
  fp: 'frontend port',
  bi: 'backend source IP',
  bp: 'backend source port',
  si: 'server IP',
  sp: 'server port',
  f: 'frontend name',
  ft: 'frontend name with transport',
  b: 'backend name',
  s: 'server name',
  t: 'accept date, e.g. 10/Oct/2026:13:55:36.000',
  tr: 'request date, e.g. 10/Oct/2026:13:55:36.000',
  T: 'accept date in GMT, as HTTP logs',
  Ts: 'accept date as a Unix timestamp',
  ms: 'accept date milliseconds',
  Th: 'connection handshake time (ms)',
  Ti: 'idle time before the request (ms)',
  TR: 'time to receive the full request head (ms)',
  Tq: 'Th + Ti + TR (ms)',
  Tw: 'time waiting in queues (ms)',
  Tc: 'time to connect to the server (ms)',
  Tr: 'server response time (ms)',
  Ta: 'active time of the request (ms)',
  Tt: 'total session time (ms)',
  ST: 'HTTP status code',
  B: 'bytes sent to the client',
  U: 'bytes received from the client',
  tsc: 'termination state with cookie status',
  ts: 'termination state',
  ac: 'active connections of the process',
  fc: 'frontend connections',
  bc: 'backend connections',
  sc: 'server connections',
  rc: 'retries',
  sq: 'server queue',
  bq: 'backend queue',
  hr: 'captured request headers, {a|b}',
  hrl: 'captured request headers, space separated',
  r: 'request line',
  HM: 'HTTP method',
  HU: 'HTTP request URI',
  HP: 'HTTP request path',
  HQ: 'HTTP request query string (with ?)',
  HV: 'HTTP version',
  H: 'host name of the data plane',
  pid: 'process id',
};
