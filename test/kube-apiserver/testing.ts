/**
 * Helpers for the emulator's own tests: raw HTTP calls and loading the repo's CRDs without kubectl.
 */
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { REPO_ROOT } from '../helpers/cli-process.ts';
import type { KubeApiServer } from './index.ts';

export interface Reply {
  status: number;
  headers: Headers;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- test code reads arbitrary JSON
  body: any;
}

/** One request; JSON bodies (objects) are serialized, and the reply is parsed when it is JSON. */
export async function call(api: KubeApiServer, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  const res = await fetch(api.url + path, {
    method,
    headers: { 'Content-Type': 'application/json', Accept: 'application/json', ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: res.status, headers: res.headers, body: parsed };
}

/** The repo's generated CRDs, as objects. */
export async function repoCrds(): Promise<Record<string, unknown>[]> {
  const dir = join(REPO_ROOT, 'crds');
  const files = (await readdir(dir)).filter((f) => f.endsWith('.yaml')).sort();
  const docs = await Promise.all(files.map(async (f) => parseAllDocuments(await readFile(join(dir, f), 'utf8')).map((d) => d.toJS() as Record<string, unknown>)));
  return docs.flat();
}

/** Creates the repo's CRDs through the API (as `kubectl apply -f crds/` would, minus kubectl). */
export async function installRepoCrds(api: KubeApiServer): Promise<void> {
  for (const crd of await repoCrds()) {
    const r = await call(api, 'POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd);
    if (r.status !== 201) throw new Error(`CRD create failed: ${r.status} ${JSON.stringify(r.body)}`);
  }
}

export const SWITCHYARD = '/apis/switchyard.dev/v1alpha1';

export interface WatchEvent {
  type: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- test code reads arbitrary JSON
  object: any;
}

export interface OpenWatch {
  status: number;
  headers: Headers;
  /** Events received so far. */
  events: WatchEvent[];
  /** Resolves when the server ends the stream. */
  ended: Promise<void>;
  close(): void;
}

/** Opens a watch; resolves as soon as the response headers arrive (the server flushes them at once). */
export async function openWatch(api: KubeApiServer, path: string, headers: Record<string, string> = {}): Promise<OpenWatch> {
  const abort = new AbortController();
  const res = await fetch(api.url + path, { headers: { Accept: 'application/json', ...headers }, signal: abort.signal });
  const events: WatchEvent[] = [];
  const ended = (async () => {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let nl: number;
        while ((nl = buffer.indexOf('\n')) >= 0) {
          events.push(JSON.parse(buffer.slice(0, nl)) as WatchEvent);
          buffer = buffer.slice(nl + 1);
        }
      }
    } catch (err) {
      if (!abort.signal.aborted) throw err;
    }
  })();
  return { status: res.status, headers: res.headers, events, ended, close: () => abort.abort() };
}
