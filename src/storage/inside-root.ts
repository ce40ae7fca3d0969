import { RunError } from '../errors/run-error.js';

/** An absolute path, or an empty, `.` or `..` segment, or a NUL byte: what could leave a root, or name it. */
const unsafeRelative = /(?:^|\/)\.{0,2}(?:\/|$)|\0/;

/**
 * `relative` (segments joined by `/`) as a path under `root`, for a storage backend to act on;
 * anything that could leave the root, or name the root itself, is refused. Checked by pattern,
 * not with `path.resolve`, which was a fifth of the cost of reading a link file.
 */
export function insideRoot(root: string, relative: string): string {
  if (unsafeRelative.test(relative)) {
    throw new RunError(`refusing to touch ${JSON.stringify(relative)}: it is not a path inside the storage root ${root}`);
  }
  return root.endsWith('/') ? root + relative : `${root}/${relative}`;
}
