/**
 * `/openapi/v2`: kubectl apply and helm install/upgrade refuse to work without it, but an empty
 * document is enough (reference §0.2, §3.16): schema validation skips kinds it does not describe and
 * kubectl's strategic merge falls back to Go struct tags. The protobuf form is gnostic's
 * `openapi_v2.Document{swagger: "2.0", info: {title, version}}` (Document.swagger = 1, info = 2;
 * Info.title = 1, version = 2), encoded by hand.
 */

export const OPENAPI_PROTOBUF_TYPE = 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf';

const TITLE = 'Kubernetes';
const VERSION = 'v1.30.0';

/** A length-delimited protobuf field (wire type 2); every length here is < 128, one byte. */
function field(number: number, payload: Buffer): Buffer {
  return Buffer.concat([Buffer.from([(number << 3) | 2, payload.length]), payload]);
}

export function openApiV2Protobuf(): Buffer {
  const info = Buffer.concat([field(1, Buffer.from(TITLE)), field(2, Buffer.from(VERSION))]);
  return Buffer.concat([field(1, Buffer.from('2.0')), field(2, info)]);
}

export function openApiV2Json(): object {
  return { swagger: '2.0', info: { title: TITLE, version: VERSION }, paths: {}, definitions: {} };
}
