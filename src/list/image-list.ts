import { readFile } from 'node:fs/promises';
import { plural } from '../util/plural.js';
import { errorMessage } from '../errors/error-message.js';
import { InputError, type InputProblem } from '../errors/input-error.js';
import { type ImageReference, ReferenceSyntaxError, parseImageReference, quote } from './image-reference.js';

/** An image to delete, with where it was first listed. */
export interface ListEntry {
  ref: ImageReference;
  file: string;
  line: number;
}

/** An image listed more than once; `lines` holds every line it is on, the first included. */
export interface DuplicateEntry {
  ref: ImageReference;
  file: string;
  lines: number[];
}

export interface ImageList {
  entries: ListEntry[];
  duplicates: DuplicateEntry[];
}

/** Longer lines are certainly not references; they are rejected without being echoed whole. */
const LINE_MAX = 4096;
const HINT = 'each line is host[:port]/repository:tag or host[:port]/repository@sha256:<digest>; # starts a comment';

/**
 * Parse the list file format: one reference per line, blank lines and `#` comments
 * ignored. Every bad line is reported in one InputError, so one run shows them all.
 */
export function parseImageList(text: string, file: string): ImageList {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const items: { text: string; line: number }[] = [];
  const problems: InputProblem[] = [];
  lines.forEach((raw, index) => {
    const line = index + 1;
    if (raw.length > LINE_MAX) {
      problems.push({ file, line, message: `line is ${raw.length} characters long (at most ${LINE_MAX}): ${quote(raw.trim())}` });
      return;
    }
    // A comment after a reference needs whitespace before "#", so "#" never hides inside a reference.
    const content = raw.trim().split(/\s#/)[0]?.trim() ?? '';
    if (content === '' || content.startsWith('#')) return;
    items.push({ text: content, line });
  });
  const list = collect(items, file, problems);
  problems.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
  if (problems.length > 0) {
    throw new InputError(`${file}: ${plural(problems.length, 'invalid line')}; nothing was deleted`, problems, HINT);
  }
  return list;
}

/** The same validation for references given on the command line; `line` is the argument's 1-based position. */
export function imageListFromArguments(args: string[]): ImageList {
  const file = 'argument';
  const problems: InputProblem[] = [];
  const items: { text: string; line: number }[] = [];
  args.forEach((arg, index) => {
    // Arguments have no comment syntax: a blank one is a mistake, not something to skip.
    if (arg.trim() === '') problems.push({ file, line: index + 1, message: 'empty image reference' });
    else items.push({ text: arg, line: index + 1 });
  });
  const list = collect(items, file, problems);
  problems.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
  if (problems.length > 0) {
    throw new InputError(`${plural(problems.length, 'invalid image argument')}; nothing was deleted`, problems, HINT);
  }
  return list;
}

/** Read and parse a list file. An empty list is not an error here; the caller decides what "nothing to do" means. */
export async function readImageList(path: string): Promise<ImageList> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw unreadable(path, readFailure(error));
  }
  const nul = bytes.indexOf(0);
  if (nul !== -1) throw unreadable(path, `is not a text file (NUL byte at offset ${nul}); the image list must be UTF-8 text`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw unreadable(path, 'is not a text file (not valid UTF-8); the image list must be UTF-8 text');
  }
  return parseImageList(text, path);
}

/** Parse each item, reporting bad ones into `problems` and folding repeats of the same canonical reference. */
function collect(items: { text: string; line: number }[], file: string, problems: InputProblem[]): ImageList {
  const seen = new Map<string, { entry: ListEntry; lines: number[] }>();
  // One string per registry and repository name, not one per line: a long list names few of them.
  const names = new Map<string, string>();
  const intern = (name: string): string => names.get(name) ?? (names.set(name, name), name);
  for (const { text, line } of items) {
    let ref: ImageReference;
    try {
      ref = parseImageReference(text);
      ref.registry = intern(ref.registry);
      ref.repository = intern(ref.repository);
    } catch (error) {
      if (!(error instanceof ReferenceSyntaxError)) throw error;
      problems.push({ file, line, message: error.message });
      continue;
    }
    const existing = seen.get(ref.text);
    if (existing) existing.lines.push(line);
    else seen.set(ref.text, { entry: { ref, file, line }, lines: [line] });
  }
  const found = [...seen.values()];
  return {
    entries: found.map((f) => f.entry),
    duplicates: found.filter((f) => f.lines.length > 1).map((f) => ({ ref: f.entry.ref, file, lines: f.lines })),
  };
}

function readFailure(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'not found; pass --file PATH or set `file` in the config';
  if (code === 'EISDIR') return 'is a directory, not a file; pass the path of the list file';
  if (code === 'EACCES' || code === 'EPERM') return 'cannot be read: permission denied';
  return `cannot be read: ${errorMessage(error)}`;
}

function unreadable(path: string, message: string): InputError {
  return new InputError('cannot read the image list; nothing was deleted', [{ file: path, message }]);
}

