/**
 * The file provider: Switchyard manifests from a file or a folder (recursive), the way HAProxy
 * reads its configuration file. Multi-document YAML, *.yaml, *.yml and *.json, in sorted order.
 * A syntax error costs only the document it is in; other documents and files are still used.
 */
import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { basename, dirname, join, relative, sep } from 'node:path';
import YAML, { LineCounter } from 'yaml';
import type { RawObject } from '../../translator/translate.ts';

/** A file or document that could not be read. `line` and `column` are 1-based, null when unknown. */
export interface LoadError {
  /** File relative to `base`, e.g. `backends.yaml`. */
  source: string;
  line: number | null;
  column: number | null;
  message: string;
}

export interface LoadResult {
  /**
   * One per non-empty document. `source` is the file relative to `base`, with `#N` for the document
   * at 0-based position N > 0 of a multi-document file (`backends.yaml`, `backends.yaml#1`).
   */
  objects: RawObject[];
  errors: LoadError[];
  /** The folder sources are relative to: the path itself for a folder, its folder for a file. */
  base: string;
}

const EXTENSIONS = ['.yaml', '.yml', '.json'];

export function isManifestFile(name: string): boolean {
  return EXTENSIONS.some((ext) => name.endsWith(ext));
}

/** `file.yaml:3:5: message`, or `file.yaml: message` when the position is unknown. */
export function formatLoadError(error: LoadError, base?: string): string {
  const file = base === undefined ? error.source : join(base, error.source);
  return error.line === null ? `${file}: ${error.message}` : `${file}:${error.line}:${error.column ?? 1}: ${error.message}`;
}

function errnoMessage(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e.code === 'ENOENT') return 'no such file or directory';
  if (e.code === 'EACCES') return 'permission denied';
  return e.message ?? String(err);
}

/**
 * Manifest files under `dir`, sorted by path. Names starting with a dot are skipped (editor files,
 * and the `..data` links of a mounted ConfigMap, whose files also appear at the top level).
 * Symbolic links are followed; a folder reached twice is read once.
 */
async function listFiles(dir: string, seen: Set<string>, errors: LoadError[], root: string): Promise<string[]> {
  const real = await realpath(dir);
  if (seen.has(real)) return [];
  seen.add(real);
  const out: string[] = [];
  const names = (await readdir(dir)).sort();
  for (const name of names) {
    if (name.startsWith('.')) continue;
    const full = join(dir, name);
    let info;
    try {
      info = await stat(full);
    } catch (err) {
      if (isManifestFile(name)) errors.push({ source: toSource(relative(root, full)), line: null, column: null, message: errnoMessage(err) });
      continue;
    }
    if (info.isDirectory()) out.push(...(await listFiles(full, seen, errors, root)));
    else if (info.isFile() && isManifestFile(name)) out.push(full);
  }
  return out;
}

/** Sources use forward slashes on every platform. */
function toSource(rel: string): string {
  return sep === '/' ? rel : rel.split(sep).join('/');
}

function stripPosition(message: string): string {
  return message.replace(/ at line \d+, column \d+:[\s\S]*$/, '').trim();
}

/** Parses one file's text; exported for tests and for callers that already hold the text. */
export function parseManifests(text: string, source: string): { objects: RawObject[]; errors: LoadError[] } {
  const objects: RawObject[] = [];
  const errors: LoadError[] = [];
  const lineCounter = new LineCounter();
  let docs;
  try {
    docs = YAML.parseAllDocuments(text, { lineCounter });
  } catch (err) {
    return { objects, errors: [{ source, line: null, column: null, message: (err as Error).message }] };
  }
  // parseAllDocuments returns an EmptyStream (not an array) for a file without documents.
  if (!Array.isArray(docs)) return { objects, errors };
  docs.forEach((doc, index) => {
    if (doc.errors.length > 0) {
      for (const e of doc.errors) {
        const pos = e.linePos?.[0];
        errors.push({ source, line: pos?.line ?? null, column: pos?.col ?? null, message: stripPosition(e.message) });
      }
      return;
    }
    let object: unknown;
    try {
      object = doc.toJS();
    } catch (err) {
      const pos = doc.contents?.range ? lineCounter.linePos(doc.contents.range[0]) : undefined;
      errors.push({ source, line: pos?.line ?? null, column: pos?.col ?? null, message: (err as Error).message });
      return;
    }
    if (object === null || object === undefined) return; // an empty document, e.g. after a trailing ---
    if (typeof object !== 'object' || Array.isArray(object)) {
      const pos = doc.contents?.range ? lineCounter.linePos(doc.contents.range[0]) : undefined;
      errors.push({
        source,
        line: pos?.line ?? null,
        column: pos?.col ?? null,
        message: `expected an object with apiVersion, kind, metadata and spec, got ${Array.isArray(object) ? 'a list' : `a ${typeof object}`}`,
      });
      return;
    }
    objects.push({ object, source: index === 0 ? source : `${source}#${index}` });
  });
  return { objects, errors };
}

/** Loads every manifest in a file or folder. Never throws for missing or unreadable input: it reports it. */
export async function loadManifests(path: string): Promise<LoadResult> {
  let info;
  try {
    info = await stat(path);
  } catch (err) {
    const base = dirname(path);
    return { objects: [], errors: [{ source: basename(path), line: null, column: null, message: errnoMessage(err) }], base };
  }
  const base = info.isDirectory() ? path : dirname(path);
  const errors: LoadError[] = [];
  let files: string[];
  if (info.isDirectory()) {
    try {
      files = await listFiles(path, new Set(), errors, path);
    } catch (err) {
      return { objects: [], errors: [{ source: '.', line: null, column: null, message: errnoMessage(err) }], base };
    }
    files = files.map((f) => ({ f, s: toSource(relative(path, f)) })).sort((a, b) => (a.s < b.s ? -1 : a.s > b.s ? 1 : 0)).map((x) => x.f);
  } else {
    files = [path];
  }
  const objects: RawObject[] = [];
  for (const file of files) {
    const source = toSource(relative(base, file));
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      errors.push({ source, line: null, column: null, message: errnoMessage(err) });
      continue;
    }
    const parsed = parseManifests(text, source);
    objects.push(...parsed.objects);
    errors.push(...parsed.errors);
  }
  return { objects, errors, base };
}
