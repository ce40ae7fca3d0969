import { closeSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync } from 'node:fs';
import { readFile, rm, rmdir } from 'node:fs/promises';
import path from 'node:path';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import * as z from 'zod/mini';
import { RunError } from '../../errors/run-error.js';
import { runQuietly, toArgv } from '../../process/run-command.js';
import { lastLines } from '../../util/last-lines.js';
import { defineBackend } from '../../plugins/define.js';
import { nonEmptyString } from '../../config/non-empty-string.js';
import { localCommandsRuntime } from '../../runtime/local-commands.js';
import { insideRoot } from '../inside-root.js';
import type { StorageBackend, StorageEntry } from '../storage-backend.js';
import '../../config/zod-locale.js';

/** The official `registry:2` image's binary and config path; 3.x keeps its config in /etc/distribution/config.yml. */
export const defaultGcCommand = 'registry garbage-collect /etc/docker/registry/config.yml';

const options = z.strictObject({
  /** The registry's storage root on this machine: its filesystem `rootdirectory` (`/var/lib/registry` in the container, often bind-mounted from `/data/registry`). */
  root: nonEmptyString(),
});

/** Storage in a directory on this machine; GC and restart run configured local commands. */
export const filesystemBackend = defineBackend({
  id: 'filesystem',
  summary: 'the registry storage root is a directory on this machine; GC and restart run local commands',
  options,
  create(settings, context) {
    const storage = filesystemStorage(path.resolve(settings.root));
    const argv = (command: string | string[] | undefined) => (command ? toArgv(command) : undefined);
    const runtime = localCommandsRuntime({
      gc: toArgv(context.gc.command ?? defaultGcCommand),
      restart: argv(context.restart.command),
      restartReadOnly: argv(context.restart.readOnlyCommand),
      stop: argv(context.restart.stopCommand),
      start: argv(context.restart.startCommand),
      timeoutMs: context.restart.timeoutSeconds * 1000,
    });
    return { storage, runtime };
  },
});

/** Files read between two turns of the event loop. */
const readChunk = 64;

/** Paths per `rm` process: far below any argument-length limit (a path here is about 150 bytes). */
const removeChunk = 1_000;

/**
 * `rm` processes at once: with one, the last repositories' tags waited for the one before them
 * after the last DELETE, 45–104 ms of a 1,000-image clean (17–39 ms with two).
 */
const removers = 2;

export function filesystemStorage(root: string): StorageBackend {
  const inside = (relative: string): string => insideRoot(root, relative);
  const removeTrees = removersAtATime(removers, async (relatives) => {
    for (let start = 0; start < relatives.length; start += removeChunk) {
      const chunk = relatives.slice(start, start + removeChunk);
      const result = await runQuietly(['rm', '-rf', '--', ...chunk.map(inside)]);
      if (result.exitCode !== 0) throw storageError('remove', chunk[0] ?? '', new Error(lastLines(result.output)));
    }
  });
  return {
    description: `filesystem ${root}`,
    async list(relative) {
      // Synchronous, like readTexts: through libuv's thread pool the answer would wait behind the
      // storage reads of other repositories (and the storage probe, which lists first, with it).
      try {
        const entries = readdirSync(inside(relative), { withFileTypes: true });
        return entries.map((e): StorageEntry => ({ name: e.name, directory: e.isDirectory() }));
      } catch (error) {
        if (isMissing(error)) return null;
        throw storageError('list', relative, error);
      }
    },
    async readText(relative) {
      try {
        return await readFile(inside(relative), 'utf8');
      } catch (error) {
        if (isMissing(error)) return null;
        throw storageError('read', relative, error);
      }
    },
    async readTexts(relatives) {
      // Link files and manifests are tiny: a synchronous read takes ~10 µs, an fs.promises read
      // ~50 µs of open/fstat/read/close round trips. Chunks keep the event loop (requests in flight) moving.
      const texts: Array<string | null> = [];
      for (let start = 0; start < relatives.length; start += readChunk) {
        if (start > 0) await yieldToEventLoop();
        for (const relative of relatives.slice(start, start + readChunk)) {
          try {
            texts.push(readSmallFile(inside(relative)));
          } catch (error) {
            if (!isMissing(error)) throw storageError('read', relative, error);
            texts.push(null);
          }
        }
      }
      return texts;
    },
    async remove(relative) {
      try {
        await rm(inside(relative), { recursive: true, force: true });
      } catch (error) {
        throw storageError('remove', relative, error);
      }
    },
    async move(from, to) {
      // Synchronous, like readTexts: a rename is one system call, and a promise round trip through
      // libuv's thread pool costs more than the call itself. `rename` would replace an empty directory: look first.
      const target = inside(to);
      try {
        if (exists(target)) return false;
        renameSync(inside(from), target);
        return true;
      } catch (error) {
        // The target's parent is created on demand: one mkdir a run, not one a tag.
        if (!isMissing(error)) return fail(error);
      }
      try {
        if (!exists(inside(from))) return false;
        mkdirSync(path.dirname(target), { recursive: true });
        renameSync(inside(from), target);
        return true;
      } catch (error) {
        return fail(error);
      }
      function fail(error: unknown): false {
        const code = (error as NodeJS.ErrnoException).code;
        if (isMissing(error) || code === 'ENOTEMPTY' || code === 'EEXIST') return false;
        throw storageError('move', from, error);
      }
    },
    async measure(relative) {
      const usage = { files: 0, bytes: 0 };
      // Synchronous calls a directory at a time, like readTexts: the blob store is thousands of tiny directories.
      const walk = async (dir: string): Promise<void> => {
        let entries;
        try {
          entries = readdirSync(dir, { withFileTypes: true });
        } catch (error) {
          if (isMissing(error)) return;
          throw storageError('measure', relative, error);
        }
        for (const entry of entries) {
          const full = path.join(dir, entry.name);
          if (entry.isDirectory()) {
            await walk(full);
          } else if (entry.isFile()) {
            usage.files++;
            usage.bytes += lstatSync(full).size;
          }
        }
        await yieldToEventLoop();
      };
      await walk(inside(relative));
      return usage;
    },
    removeInBackground: removeTrees,
    async removeEmptyDirectory(relative) {
      try {
        await rmdir(inside(relative));
        return true;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (isMissing(error) || code === 'ENOTEMPTY' || code === 'EEXIST') return false;
        throw storageError('remove', relative, error);
      }
    },
  };
}

/**
 * Runs `remove` at once while fewer than `limit` removals run; paths asked for meanwhile wait
 * and go together in the next one to start: a few processes at a time, however many
 * repositories finish.
 */
function removersAtATime(limit: number, remove: (paths: string[]) => Promise<void>): (paths: string[]) => Promise<void> {
  interface Queued {
    paths: string[];
    done: Promise<void>;
    start: () => void;
  }
  let running = 0;
  let waiting: Queued | undefined;
  const run = (paths: string[]): Promise<void> => {
    running++;
    return remove(paths).finally(() => {
      running--;
      const next = waiting;
      waiting = undefined;
      next?.start();
    });
  };
  const queue = (): Queued => {
    const queued = { paths: [] as string[] } as Queued;
    queued.done = new Promise<void>((resolve, reject) => {
      queued.start = () => void run(queued.paths).then(resolve, reject);
    });
    return queued;
  };
  return (paths) => {
    if (running < limit) return run([...paths]);
    waiting ??= queue();
    waiting.paths.push(...paths);
    return waiting.done;
  };
}

/** Shared by every small read; link files are 71 bytes, manifests a few KB. */
let readBuffer: Buffer | undefined;

/**
 * A small file's text: open, read into a buffer kept for it until the end of the file, close.
 * Without the `fstat` and the buffer per file of `readFileSync`, a 71-byte link reads faster.
 */
function readSmallFile(file: string): string {
  const buffer = (readBuffer ??= Buffer.allocUnsafe(64 * 1024));
  const fd = openSync(file, 'r');
  try {
    // Until a read returns nothing: a network or FUSE filesystem may return fewer bytes than asked.
    let length = 0;
    let read: number;
    do {
      read = readSync(fd, buffer, length, buffer.length - length, length);
      length += read;
    } while (read > 0 && length < buffer.length);
    // It filled the buffer: larger than links and manifests are, so read it whole.
    if (length === buffer.length) return readFileSync(file, 'utf8');
    return buffer.toString('utf8', 0, length);
  } finally {
    closeSync(fd);
  }
}

function exists(file: string): boolean {
  try {
    lstatSync(file);
    return true;
  } catch (error) {
    if (isMissing(error)) return false;
    throw error;
  }
}

function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

function storageError(action: string, relative: string, error: unknown): RunError {
  const code = (error as NodeJS.ErrnoException).code;
  return new RunError(`cannot ${action} ${relative} in the registry storage: ${code ?? (error as Error).message}`, {
    hint: code === 'EACCES' || code === 'EPERM' ? 'run rc as a user that may write the registry storage (often root)' : undefined,
  });
}
