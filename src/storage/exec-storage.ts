import { RunError } from '../errors/run-error.js';
import { insideRoot } from './inside-root.js';
import type { StorageBackend, StorageEntry, StorageUsage } from './storage-backend.js';
import type { CommandResult } from '../process/run-command.js';
import { lastLines } from '../util/last-lines.js';

/** Exit status the scripts below use for "no such file or directory". */
const missing = 3;

/** Fixed scripts; paths reach them only as arguments (`"$1"`, `"$@"`), never inside the script text. */
const scripts = {
  list: 'cd "$1" 2>/dev/null || exit 3; for f in * .[!.]* ..?*; do [ -e "$f" ] || [ -L "$f" ] || continue; if [ -d "$f" ] && [ ! -L "$f" ]; then echo "d $f"; else echo "f $f"; fi; done',
  read: '[ -f "$1" ] || exit 3; cat "$1"',
  // A record per path, ended by RS and a newline (RS cannot occur in a link file or a JSON manifest):
  // "+" and the exact bytes, or "-" when absent.
  readMany: 'for f; do if [ -f "$f" ]; then printf "+"; cat "$f"; else printf "-"; fi; printf "\\036\\n"; done',
  remove: 'rm -rf -- "$1"',
  rmdir: 'rmdir -- "$1" 2>&1 && echo removed; exit 0',
  // "<files> <bytes>" of the regular files below a directory.
  measure: '[ -d "$1" ] || { echo "0 0"; exit 0; }; find "$1" -type f -exec wc -c {} + | awk \'$2 != "total" { n++; b += $1 } END { print n + 0, b + 0 }\'',
} as const;

const recordSeparator = '\x1e';

/** Paths per `exec` when reading many files: well under any argument-length limit. */
const batch = 400;

/** Runs an argument vector where the registry's storage is: `docker exec ID …`, `kubectl exec POD -- …`. */
export type Exec = (argv: string[]) => Promise<CommandResult>;

/**
 * The registry's storage wherever a command can reach it — inside its container through
 * `<runtime> exec`, in a pod through `kubectl exec` — so `rc` works without access to the
 * host's storage path. Needs a POSIX `sh` there (the official image has busybox).
 */
export function execStorage(exec: Exec, storageRoot: () => Promise<string>, label: string): StorageBackend {
  const inside = async (relative: string): Promise<string> => insideRoot(await storageRoot(), relative);
  const sh = (script: string, args: string[]) => exec(['sh', '-c', script, 'sh', ...args]);
  const fail = (action: string, relative: string, output: string) =>
    new RunError(`cannot ${action} ${relative} in ${label}: ${lastLines(output)}`);

  return {
    description: label,
    async list(relative) {
      const result = await sh(scripts.list, [await inside(relative)]);
      if (result.exitCode === missing) return null;
      if (result.exitCode !== 0) throw fail('list', relative, result.output);
      return result.stdout
        .split('\n')
        .filter((line) => line.length > 2)
        .map((line): StorageEntry => ({ name: line.slice(2), directory: line.startsWith('d ') }));
    },
    async readText(relative) {
      const result = await sh(scripts.read, [await inside(relative)]);
      if (result.exitCode === missing) return null;
      if (result.exitCode !== 0) throw fail('read', relative, result.output);
      return result.stdout;
    },
    async readTexts(relatives) {
      const texts: Array<string | null> = [];
      for (let start = 0; start < relatives.length; start += batch) {
        const chunk = relatives.slice(start, start + batch);
        const result = await sh(scripts.readMany, await Promise.all(chunk.map(inside)));
        // Output arrives as lines: each record after the first starts with the newline that ended the previous one.
        const records = result.stdout.split(recordSeparator).map((record, i) => (i > 0 && record.startsWith('\n') ? record.slice(1) : record));
        if (result.exitCode !== 0 || records.length !== chunk.length + 1) throw fail('read', chunk[0] ?? '', result.output);
        for (const record of records.slice(0, chunk.length)) texts.push(record.startsWith('+') ? record.slice(1) : null);
      }
      return texts;
    },
    async remove(relative) {
      const result = await sh(scripts.remove, [await inside(relative)]);
      if (result.exitCode !== 0) throw fail('remove', relative, result.output);
    },
    async removeEmptyDirectory(relative) {
      const result = await sh(scripts.rmdir, [await inside(relative)]);
      if (result.stdout.trim().endsWith('removed')) return true;
      if (/not empty|no such file|not a directory/i.test(result.output)) return false;
      throw fail('remove', relative, result.output);
    },
    async measure(relative) {
      const result = await sh(scripts.measure, [await inside(relative)]);
      const [files, bytes] = result.stdout.trim().split(/\s+/).map(Number);
      if (result.exitCode !== 0 || !Number.isFinite(files) || !Number.isFinite(bytes)) throw fail('measure', relative, result.output);
      return { files: files ?? 0, bytes: bytes ?? 0 } satisfies StorageUsage;
    },
  };
}
