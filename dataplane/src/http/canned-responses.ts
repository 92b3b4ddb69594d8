/**
 * The responses the proxy writes itself, worded as HAProxy's so that operators recognise them
 * (and so do their monitoring rules). Built once at start-up as buffers.
 */
const texts: Record<number, [string, string]> = {
  400: ['Bad request', 'Your browser sent an invalid request.'],
  403: ['Forbidden', 'Request forbidden by administrative rules.'],
  408: ['Request Time-out', "Your browser didn't send a complete request in time."],
  413: ['Payload Too Large', 'The request entity exceeds the maximum allowed.'],
  421: ['Misdirected Request', 'The request was directed at a server that is not able to produce a response.'],
  431: ['Request Header Fields Too Large', 'The request header fields are too large.'],
  500: ['Internal Server Error', 'An internal server error occurred.'],
  501: ['Not Implemented', 'The server does not support the functionality required to fulfill the request.'],
  502: ['Bad Gateway', 'The server returned an invalid or incomplete response.'],
  503: ['Service Unavailable', 'No server is available to handle this request.'],
  504: ['Gateway Time-out', "The server didn't respond in time."],
};

function build(status: number, reason: string, message: string): Buffer {
  const body = `<html><body><h1>${status} ${reason}</h1>\n${message}\n</body></html>\n`;
  return Buffer.from(
    `HTTP/1.1 ${status} ${reason}\r\ncontent-length: ${body.length}\r\ncache-control: no-cache\r\n` +
      `content-type: text/html\r\nconnection: close\r\n\r\n${body}`,
    'latin1',
  );
}

const cache = new Map<number, Buffer>();
for (const [status, [reason, message]] of Object.entries(texts)) cache.set(Number(status), build(Number(status), reason, message));

/** A complete response (head and body) for a status the proxy answers itself; it closes the connection. */
export function cannedResponse(status: number): Buffer {
  return cache.get(status) ?? cache.get(500)!;
}
