/**
 * Watches a manifest file or folder and calls `onChange` once things settle, so `switchyard run`
 * reloads when files change. Events are debounced (a quiet period) with a maximum wait, so a
 * steady stream of writes still reloads. Reloading an unchanged configuration is harmless (an
 * unchanged snapshot is not republished), so every event counts; nothing is filtered by name
 * except, when watching one file, other files of its folder.
 *
 * A folder is watched recursively. A single file is watched through its folder, because editors
 * and ConfigMap updates replace files (rename) rather than write them in place. If the watched
 * path disappears or the watcher fails, watching is re-established with a retry.
 */
import { watch } from 'node:fs';
import type { FSWatcher } from 'node:fs';
import { statSync } from 'node:fs';
import { basename, dirname } from 'node:path';

export interface WatchOptions {
  /** Quiet period after the last event before onChange runs. Default 200 ms. */
  debounceMs?: number;
  /** Longest delay after the first event of a burst. Default 2000 ms. */
  maxWaitMs?: number;
  /** Delay between attempts to re-establish a failed watch. Default 1000 ms. */
  retryMs?: number;
}

export interface ManifestWatcher {
  close(): void;
}

type Kind = 'dir' | 'file' | 'missing';

function kindOf(path: string): Kind {
  try {
    return statSync(path).isDirectory() ? 'dir' : 'file';
  } catch {
    return 'missing';
  }
}

export function watchManifests(path: string, onChange: () => void, opts: WatchOptions = {}): ManifestWatcher {
  const debounceMs = opts.debounceMs ?? 200;
  const maxWaitMs = opts.maxWaitMs ?? 2000;
  const retryMs = opts.retryMs ?? 1000;
  let watcher: FSWatcher | null = null;
  let kind: Kind = 'missing';
  let timer: ReturnType<typeof setTimeout> | null = null;
  let firstEventAt: number | null = null;
  let retry: ReturnType<typeof setTimeout> | null = null;
  let closed = false;

  const fire = (): void => {
    timer = null;
    firstEventAt = null;
    if (closed) return;
    // Watch anew before every reload: the path may have turned from a file into a folder,
    // appeared or gone, and on Linux a recursive watch loses a file that an editor replaced by
    // rename. Anything written before the new watch exists is read by the reload that follows.
    start();
    onChange();
  };

  const schedule = (): void => {
    if (closed) return;
    const now = performance.now();
    firstEventAt ??= now;
    if (timer) clearTimeout(timer);
    const wait = Math.max(0, Math.min(debounceMs, firstEventAt + maxWaitMs - now));
    timer = setTimeout(fire, wait);
  };

  const stop = (): void => {
    if (watcher) {
      watcher.removeAllListeners();
      watcher.on('error', () => {}); // a late error from a closed watcher must not crash us
      watcher.close();
    }
    watcher = null;
  };

  const fail = (): void => {
    stop();
    if (closed || retry) return;
    retry = setTimeout(() => {
      retry = null;
      if (closed) return;
      start();
      schedule(); // whatever happened meanwhile was missed: reload
    }, retryMs);
  };

  function start(): void {
    stop();
    kind = kindOf(path);
    try {
      if (kind === 'dir') {
        watcher = watch(path, { recursive: true }, () => schedule());
      } else {
        // A file, or a path that does not exist yet: watch its folder for this name. Names that
        // start with `..` are the links a ConfigMap mount swaps atomically.
        const name = basename(path);
        watcher = watch(dirname(path), (_event, filename) => {
          const f = filename === null ? null : String(filename);
          if (f === null || f === name || f.startsWith('..')) schedule();
        });
      }
    } catch {
      fail();
      return;
    }
    watcher.on('error', fail);
  }

  start();
  return {
    close(): void {
      closed = true;
      if (timer) clearTimeout(timer);
      if (retry) clearTimeout(retry);
      timer = null;
      retry = null;
      stop();
    },
  };
}
