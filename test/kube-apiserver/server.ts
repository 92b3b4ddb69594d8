/**
 * HTTP front of the emulator (reference §3.1): routing of `/api/v1/…` and `/apis/{g}/{v}/…` paths to
 * resource types, query and body parsing, content negotiation (JSON only; Table when asked;
 * the OpenAPI protobuf stub), and Status errors. The semantics live in resources.ts and watch.ts.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseYaml } from 'yaml';
import { installControllers } from './controllers.ts';
import { installCrdSupport } from './crd-registry.ts';
import { apiGroupDocument, apiGroupList, apiResourceList, apiVersions, VERSION_INFO } from './discovery.ts';
import { ApiError, badRequest, methodNotAllowed, pathNotFound, unsupportedMediaType } from './errors.ts';
import { registerBuiltins, SEED_NAMESPACES } from './builtins.ts';
import { OPENAPI_PROTOBUF_TYPE, openApiV2Json, openApiV2Protobuf } from './openapi.ts';
import { Registry } from './registry.ts';
import type { ResourceType } from './registry.ts';
import type { DeleteOptions, ListQuery, WriteOptions } from './resources.ts';
import { Resources } from './resources.ts';
import { Store } from './store.ts';
import { toTable, wantsTable } from './table.ts';
import type { JsonObject } from './types.ts';
import { isObject } from './types.ts';
import type { ActiveWatch } from './watch.ts';
import { serveWatch } from './watch.ts';

export interface ApiServerOptions {
  /** Events retained per resource type for watches; older resourceVersions get 410 Gone. */
  historyLimit: number;
  /** Watch length when the client sends no timeoutSeconds (upstream: 30–60 min). */
  watchTimeoutSeconds: number;
  /** BOOKMARK cadence for watches with allowWatchBookmarks=true. */
  bookmarkIntervalMs: number;
  log: ((line: string) => void) | undefined;
}

/** One request as received, for tests that assert on what a client sent. */
export interface RequestRecord {
  method: string;
  url: string;
  accept: string | undefined;
  contentType: string | undefined;
  /** 0 until the response status is sent. */
  status: number;
}

interface ResourceRoute {
  type: ResourceType;
  namespace: string | undefined;
  name: string | undefined;
  subresource: 'status' | undefined;
}

const MAX_BODY = 3 * 1024 * 1024;
const REQUEST_LOG_LIMIT = 10_000;

export class ApiServer {
  readonly registry = new Registry();
  readonly store: Store;
  readonly resources: Resources;
  readonly requests: RequestRecord[] = [];
  /** host:port clients reach us on, for /api's serverAddressByClientCIDRs. */
  serverAddress = '127.0.0.1';
  private readonly options: ApiServerOptions;
  private readonly watches = new Set<ActiveWatch>();
  /** Marks a request's record as answered (a watch answers long before it finishes). */
  private readonly pending = new WeakMap<ServerResponse, () => void>();

  constructor(options: ApiServerOptions) {
    this.options = options;
    this.store = new Store(options.historyLimit);
    this.resources = new Resources(this.registry, this.store);
    registerBuiltins(this.registry);
    installCrdSupport(this.registry, this.store);
    installControllers(this.resources, this.store);
    const nsType = this.registry.lookup('', 'v1', 'namespaces')!;
    for (const name of SEED_NAMESPACES) this.resources.create(nsType, undefined, { metadata: { name } }, { dryRun: false, fieldValidation: 'Ignore', warnings: [], subresource: undefined });
  }

  /** Ends every open watch cleanly, as an API server restart or timeout would. */
  closeWatches(): void {
    for (const w of [...this.watches]) w.close();
  }

  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    const started = Date.now();
    // Recorded on arrival (a watch may stay open for minutes); the status is filled in when known.
    const entry: RequestRecord = { method: req.method ?? '', url: req.url ?? '', accept: req.headers.accept, contentType: req.headers['content-type'], status: 0 };
    this.requests.push(entry);
    if (this.requests.length > REQUEST_LOG_LIMIT) this.requests.shift();
    const written = (): void => {
      if (entry.status !== 0) return;
      entry.status = res.statusCode;
      this.options.log?.(`${entry.method} ${entry.url} ${entry.status} ${Date.now() - started}ms`);
    };
    res.on('finish', written);
    res.on('close', written);
    this.pending.set(res, written);
    this.dispatch(req, res).catch((err: unknown) => this.fail(res, err));
  };

  private fail(res: ServerResponse, err: unknown): void {
    const apiError = err instanceof ApiError ? err : new ApiError(500, 'InternalError', `Internal error occurred: ${err instanceof Error ? err.message : String(err)}`, {});
    if (!(err instanceof ApiError)) this.options.log?.(`internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    if (res.headersSent) {
      res.end();
      return;
    }
    sendJson(res, apiError.code, apiError.toStatus());
  }

  private async dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://emulator');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const method = req.method ?? 'GET';

    if (path === '/version') return sendJson(res, 200, VERSION_INFO);
    if (path === '/healthz' || path === '/livez' || path === '/readyz') return sendText(res, 200, 'ok');
    if (path === '/openapi/v2') {
      if ((req.headers.accept ?? '').includes('protobuf')) {
        res.writeHead(200, { 'Content-Type': OPENAPI_PROTOBUF_TYPE });
        res.end(openApiV2Protobuf());
        return;
      }
      return sendJson(res, 200, openApiV2Json());
    }
    if (path === '/api') return sendJson(res, 200, apiVersions(this.serverAddress));
    if (path === '/apis') return sendJson(res, 200, apiGroupList(this.registry));

    const segments = path.split('/').slice(1).map(decodeURIComponent);
    let group: string;
    let version: string;
    let rest: string[];
    if (segments[0] === 'api' && segments.length >= 2) [group, version, rest] = ['', segments[1], segments.slice(2)];
    else if (segments[0] === 'apis' && segments.length >= 2) {
      if (segments.length === 2) {
        const doc = apiGroupDocument(this.registry, segments[1]);
        if (doc === undefined) throw pathNotFound();
        return sendJson(res, 200, doc);
      }
      [group, version, rest] = [segments[1], segments[2], segments.slice(3)];
    } else throw pathNotFound();

    if (rest.length === 0) {
      const list = apiResourceList(this.registry, group, version);
      if (list === undefined) throw pathNotFound();
      return sendJson(res, 200, list);
    }
    const route = this.route(group, version, rest);
    return this.serveResource(req, res, url.searchParams, route, method);
  }

  /** `[namespaces/{ns}/]{resource}[/{name}[/{subresource}]]`; `namespaces/{name}[/status]` is a Namespace. */
  private route(group: string, version: string, rest: string[]): ResourceRoute {
    let namespace: string | undefined;
    let parts = rest;
    const namespaceSubresource = parts.length === 3 && (parts[2] === 'status' || parts[2] === 'finalize');
    if (parts[0] === 'namespaces' && parts.length >= 3 && !(group === '' && namespaceSubresource)) {
      namespace = parts[1];
      parts = parts.slice(2);
    }
    if (parts.length > 3) throw pathNotFound();
    const [resource, name, sub] = parts;
    const type = this.registry.lookup(group, version, resource);
    if (type === undefined) throw pathNotFound();
    if (namespace !== undefined && !type.namespaced) throw pathNotFound();
    if (namespace === undefined && type.namespaced && name !== undefined) throw pathNotFound();
    if (sub !== undefined && !(sub === 'status' && type.statusSubresource)) throw pathNotFound();
    return { type, namespace, name, subresource: sub as 'status' | undefined };
  }

  private async serveResource(req: IncomingMessage, res: ServerResponse, q: URLSearchParams, route: ResourceRoute, method: string): Promise<void> {
    const { type, namespace, name, subresource } = route;
    const table = wantsTable(req.headers.accept);
    const opts = (): WriteOptions => ({ dryRun: q.get('dryRun') === 'All', fieldValidation: fieldValidation(q), warnings: [], subresource });
    const listQuery = (): ListQuery => ({
      labelSelector: q.get('labelSelector'),
      fieldSelector: q.get('fieldSelector'),
      limit: q.has('limit') ? Number(q.get('limit')) : undefined,
      continueToken: q.get('continue'),
    });

    switch (method) {
      case 'GET': {
        if (name !== undefined) {
          const obj = this.resources.get(type, namespace, name);
          return sendJson(res, 200, table ? toTable(type, [obj], { resourceVersion: obj.metadata.resourceVersion }) : obj);
        }
        if (q.get('watch') === 'true' || q.get('watch') === '1') {
          const timeout = q.get('timeoutSeconds');
          // onEnd may run before serveWatch returns (a 410 ends the stream at once).
          const holder: { active?: ActiveWatch } = {};
          const active = serveWatch(
            res,
            {
              type,
              namespace,
              labelSelector: q.get('labelSelector'),
              fieldSelector: q.get('fieldSelector'),
              resourceVersion: q.get('resourceVersion'),
              allowWatchBookmarks: q.get('allowWatchBookmarks') === 'true',
              timeoutSeconds: timeout === null ? undefined : Number(timeout),
              table,
            },
            { store: this.store, resources: this.resources, defaultTimeoutSeconds: this.options.watchTimeoutSeconds, bookmarkIntervalMs: this.options.bookmarkIntervalMs },
            () => {
              if (holder.active !== undefined) this.watches.delete(holder.active);
              holder.active = undefined;
            },
          );
          this.pending.get(res)?.();
          if (!res.writableEnded) {
            holder.active = active;
            this.watches.add(active);
          }
          return;
        }
        const list = this.resources.list(type, namespace, listQuery());
        return sendJson(res, 200, table ? toTable(type, list.items, list.metadata) : list);
      }
      case 'POST': {
        if (name !== undefined) throw methodNotAllowed();
        const o = opts();
        const created = this.resources.create(type, namespace, await readBody(req), o);
        return sendJson(res, 201, created, o.warnings);
      }
      case 'PUT': {
        if (name === undefined) throw methodNotAllowed();
        const o = opts();
        const updated = this.resources.update(type, namespace, name, await readBody(req), o);
        return sendJson(res, 200, updated, o.warnings);
      }
      case 'PATCH': {
        if (name === undefined) throw methodNotAllowed();
        const o = opts();
        const contentType = mediaType(req.headers['content-type']);
        if (contentType === 'application/apply-patch+yaml') throw unsupportedMediaType(['application/json-patch+json', 'application/merge-patch+json', ...(type.custom ? [] : ['application/strategic-merge-patch+json'])]);
        const patched = this.resources.patch(type, namespace, name, contentType, await readBody(req), o);
        return sendJson(res, 200, patched, o.warnings);
      }
      case 'DELETE': {
        const body = await readBody(req, true);
        const options = (isObject(body) ? body : {}) as DeleteOptions;
        const dryRun = q.get('dryRun') === 'All' || (Array.isArray((body as JsonObject | undefined)?.dryRun) && ((body as JsonObject).dryRun as string[]).includes('All'));
        if (name === undefined) return sendJson(res, 200, this.resources.deleteCollection(type, namespace, listQuery(), options, dryRun));
        if (subresource !== undefined) throw methodNotAllowed();
        const result = this.resources.delete(type, namespace, name, options, dryRun);
        return sendJson(res, result.code, result.body);
      }
      default:
        throw methodNotAllowed();
    }
  }

}

function fieldValidation(q: URLSearchParams): WriteOptions['fieldValidation'] {
  const v = q.get('fieldValidation');
  if (v === null || v === '') return 'Warn';
  if (v === 'Strict' || v === 'Warn' || v === 'Ignore') return v;
  throw badRequest(`fieldValidation must be one of "Ignore", "Warn", or "Strict", got ${JSON.stringify(v)}`);
}

const mediaType = (header: string | undefined): string => (header ?? '').split(';')[0].trim().toLowerCase();

async function readBody(req: IncomingMessage, optional = false): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new ApiError(413, 'RequestEntityTooLarge', 'Request entity too large: limit is 3145728', {});
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') {
    if (optional) return undefined;
    throw badRequest('the body of the request is empty');
  }
  const type = mediaType(req.headers['content-type']);
  // Protobuf (kubectl ≥ 1.33's typed create commands) and CBOR bodies are not decoded: 415 makes
  // client-go fall back to JSON.
  if (type.includes('protobuf') || type.includes('cbor'))
    throw unsupportedMediaType(['application/json', 'application/yaml']);
  try {
    return type === 'application/yaml' ? parseYaml(text) : JSON.parse(text);
  } catch (err) {
    throw badRequest(`couldn't get version/kind; json parse error: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function sendJson(res: ServerResponse, code: number, body: unknown, warnings: string[] = []): void {
  const headers: Record<string, string | string[]> = { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' };
  if (warnings.length > 0) headers.Warning = warnings.map((w) => `299 - ${JSON.stringify(w)}`);
  res.writeHead(code, headers);
  res.end(JSON.stringify(body));
}

function sendText(res: ServerResponse, code: number, text: string): void {
  res.writeHead(code, { 'Content-Type': 'text/plain; charset=utf-8' });
  res.end(text);
}
