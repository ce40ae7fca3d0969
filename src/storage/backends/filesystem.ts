import { lstat, readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { RunError } from '../../errors/run-error.js';
import { runCommand, toArgv } from '../../process/run-command.js';
import { defineBackend } from '../../plugins/define.js';
import { interpretGcOutput } from '../gc-output.js';
import type { StorageBackend, StorageEntry } from '../storage-backend.js';

export const defaultGcCommand = 'registry garbage-collect /etc/docker/registry/config.yml';

const options = z.strictObject({
  /** The registry's storage root on this machine: its filesystem `rootdirectory` (`/var/lib/registry` in the container, often bind-mounted from `/data/registry`). */
  root: z.string().min(1),
});

/** Storage in a directory on this machine; GC and restart run configured local commands. */
export const filesystemBackend = defineBackend({
  id: 'filesystem',
  summary: 'the registry storage root is a directory on this machine',
  options,
  create(settings, context) {
    const root = path.resolve(settings.root);
    const gcArgv = toArgv(context.gc.command ?? defaultGcCommand);
    const restartArgv = context.restart.command ? toArgv(context.restart.command) : undefined;

    /** Absolute path inside the root; anything that would resolve outside it is refused. */
    const inside = (relative: string): string => {
      const absolute = path.resolve(root, relative);
      if (absolute === root || !absolute.startsWith(root + path.sep)) {
        throw new RunError(`refusing to touch ${absolute}: it is not inside the storage root ${root}`);
      }
      return absolute;
    };

    const backend: StorageBackend = {
      description: `filesystem ${root}`,
      async list(relative) {
        try {
          const entries = await readdir(inside(relative), { withFileTypes: true });
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
      async remove(relative) {
        const target = inside(relative);
        try {
          await lstat(target);
        } catch (error) {
          if (isMissing(error)) return;
        }
        try {
          await rm(target, { recursive: true, force: true });
        } catch (error) {
          throw storageError('remove', relative, error);
        }
      },
      async garbageCollect(gc, io) {
        const argv = [...gcArgv];
        if (gc.deleteUntagged) argv.push('--delete-untagged');
        if (gc.dryRun) argv.push('--dry-run');
        const result = await runCommand(argv, { onLine: io.onLine, signal: io.signal });
        return interpretGcOutput(argv, result.exitCode, result.output);
      },
      restartUnavailable: restartArgv ? undefined : 'no restart.command is configured',
      restart: restartArgv
        ? async (io) => {
            const result = await runCommand(restartArgv, { onLine: io.onLine, signal: io.signal });
            if (result.exitCode !== 0) {
              throw new RunError(`restart command ${restartArgv.join(' ')} exited with ${result.exitCode}`, {
                hint: `its output:\n${result.output.split('\n').slice(-10).join('\n')}`,
              });
            }
          }
        : undefined,
    };

    return backend;
  },
});

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
