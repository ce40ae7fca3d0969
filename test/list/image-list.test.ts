import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../../src/errors/input-error.js';
import { imageListFromArguments, parseImageList, readImageList } from '../../src/list/image-list.js';

const execFileAsync = promisify(execFile);

const SEED = [
  'registry.ghostwritten.com/library/busybox:1.36.1',
  'registry.ghostwritten.com/registry:latest',
  'registry.ghostwritten.com/demo/nginx:1.26',
  '127.0.0.1:5000/demo/nginx:noexist',
];

/** The InputError a call throws (fails the test if it does not throw one). */
function inputError(run: () => unknown): InputError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    return error as InputError;
  }
  throw new Error('expected an InputError');
}

async function inputErrorAsync(run: () => Promise<unknown>): Promise<InputError> {
  const error = await run().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(InputError);
  return error as InputError;
}

const texts = (text: string) => parseImageList(text, 'list.txt').entries.map((e) => e.ref.text);

describe('parseImageList', () => {
  it('reads the seed list in order, remembering each line number', () => {
    const list = parseImageList(SEED.join('\n') + '\n', 'registry-images-clean.txt');
    expect(list.entries.map((e) => [e.ref.text, e.line])).toEqual(SEED.map((ref, i) => [ref, i + 1]));
    expect(list.entries[0]?.file).toBe('registry-images-clean.txt');
    expect(list.duplicates).toEqual([]);
  });

  it('ignores blank lines and comment lines, keeping real line numbers', () => {
    const list = parseImageList(`# images to delete\n\n   \n  # indented comment\n${SEED[0]}\n\t\n${SEED[1]}`, 'list.txt');
    expect(list.entries.map((e) => e.line)).toEqual([5, 7]);
  });

  it('allows a comment after a reference', () => {
    expect(texts(`${SEED[0]} # old release\n${SEED[1]}\t# keep? no`)).toEqual([SEED[0], SEED[1]]);
  });

  it('tolerates CRLF line endings, surrounding spaces and tabs', () => {
    expect(texts(`  ${SEED[0]}\t\r\n\t${SEED[1]}  \r\n\r\n`)).toEqual([SEED[0], SEED[1]]);
  });

  it('tolerates a UTF-8 byte order mark at the start', () => {
    expect(texts(`\uFEFF${SEED[0]}\n`)).toEqual([SEED[0]]);
  });

  it('lists a repeated image once and reports every line it appears on', () => {
    const list = parseImageList(`${SEED[0]}\n${SEED[1]}\n${SEED[0]}\nREGISTRY.ghostwritten.com/library/busybox:1.36.1\n`, 'list.txt');
    expect(list.entries.map((e) => [e.ref.text, e.line])).toEqual([
      [SEED[0], 1],
      [SEED[1], 2],
    ]);
    expect(list.duplicates).toHaveLength(1);
    expect(list.duplicates[0]).toMatchObject({ file: 'list.txt', lines: [1, 3, 4], ref: { text: SEED[0] } });
  });

  it('reports every bad line with its line number in one error, not only the first', () => {
    const text = ['library/busybox:1.36', SEED[0], 'registry.example.com/app', '# fine', 'registry.example.com/App:1'].join('\n');
    const error = inputError(() => parseImageList(text, 'registry-images-clean.txt'));
    expect(error.message.split('\n')[0]).toBe('registry-images-clean.txt: 3 invalid lines; nothing was deleted');
    expect(error.problems.map((p) => [p.file, p.line])).toEqual([
      ['registry-images-clean.txt', 1],
      ['registry-images-clean.txt', 3],
      ['registry-images-clean.txt', 5],
    ]);
    expect(error.problems[0]?.message).toContain('no registry host');
    expect(error.problems[1]?.message).toContain('no tag or digest');
    expect(error.problems[2]?.message).toContain('must be lowercase');
    expect(error.message).toContain('registry-images-clean.txt:5: path component "App"');
    expect(error.exitCode).toBe(2);
  });

  it('says "1 invalid line" for a single bad line', () => {
    expect(inputError(() => parseImageList('nope', 'l.txt')).message).toMatch(/^l\.txt: 1 invalid line;/);
  });

  it('rejects a huge line without echoing it whole', () => {
    const huge = `registry.example.com/${'a'.repeat(5000)}:1`;
    const error = inputError(() => parseImageList(`${SEED[0]}\n${huge}\n`, 'list.txt'));
    const problem = error.problems[0];
    expect(problem?.line).toBe(2);
    expect(problem?.message).toContain(`line is ${huge.length} characters long (at most 4096)`);
    expect(problem?.message).toContain('…');
    expect(problem?.message.length).toBeLessThan(200);
  });

  it('treats "#" without a space before it as part of the reference, and rejects it', () => {
    expect(inputError(() => parseImageList(`${SEED[0]}#comment`, 'l.txt')).problems[0]?.message).toContain('contains "#"');
  });

  it('returns no entries for a list with only comments', () => {
    expect(parseImageList('# nothing to delete\n\n', 'l.txt')).toEqual({ entries: [], duplicates: [] });
  });
});

describe('imageListFromArguments', () => {
  it('reads references from arguments, numbering them by position', () => {
    const list = imageListFromArguments([SEED[0] ?? '', SEED[3] ?? '', SEED[0] ?? '']);
    expect(list.entries.map((e) => [e.ref.text, e.file, e.line])).toEqual([
      [SEED[0], 'argument', 1],
      [SEED[3], 'argument', 2],
    ]);
    expect(list.duplicates[0]?.lines).toEqual([1, 3]);
  });

  it('reports every bad argument by position, including blank ones', () => {
    const error = inputError(() => imageListFromArguments(['busybox:1', SEED[0] ?? '', ' ', 'registry.example.com/app']));
    expect(error.message.split('\n')[0]).toBe('3 invalid image arguments; nothing was deleted');
    expect(error.problems.map((p) => [p.file, p.line])).toEqual([
      ['argument', 1],
      ['argument', 3],
      ['argument', 4],
    ]);
    expect(error.message).toContain('argument:3: empty image reference');
  });

  it('returns no entries for no arguments', () => {
    expect(imageListFromArguments([])).toEqual({ entries: [], duplicates: [] });
  });
});

describe('readImageList', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rc-image-list-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads a list file and names it in each entry', async () => {
    const path = join(dir, 'registry-images-clean.txt');
    await writeFile(path, `\uFEFF# seed\r\n${SEED.join('\r\n')}\r\n`);
    const list = await readImageList(path);
    expect(list.entries.map((e) => e.ref.text)).toEqual(SEED);
    expect(list.entries[3]).toMatchObject({ file: path, line: 5 });
  });

  it('returns no entries for an empty file', async () => {
    const path = join(dir, 'empty.txt');
    await writeFile(path, '');
    expect(await readImageList(path)).toEqual({ entries: [], duplicates: [] });
  });

  it('reports bad lines of a file with the file path and line', async () => {
    const path = join(dir, 'bad.txt');
    await writeFile(path, `${SEED[0]}\nlibrary/busybox:1.36\n`);
    const error = await inputErrorAsync(() => readImageList(path));
    expect(error.problems).toEqual([{ file: path, line: 2, message: expect.stringContaining('no registry host') }]);
  });

  it('says how to point at the list when the file is missing', async () => {
    const path = join(dir, 'missing.txt');
    const error = await inputErrorAsync(() => readImageList(path));
    expect(error.problems).toEqual([{ file: path, message: 'not found; pass --file PATH or set `file` in the config' }]);
    expect(error.message).toContain('nothing was deleted');
  });

  it('rejects a directory', async () => {
    const error = await inputErrorAsync(() => readImageList(dir));
    expect(error.problems[0]?.message).toContain('is a directory');
  });

  it('rejects a binary file with NUL bytes as one problem', async () => {
    const path = join(dir, 'image.tar');
    await writeFile(path, Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x41, 0x0a, 0x00, 0x42]));
    const error = await inputErrorAsync(() => readImageList(path));
    expect(error.problems).toHaveLength(1);
    expect(error.problems[0]?.message).toContain('is not a text file');
  });

  it('rejects a file that is not valid UTF-8', async () => {
    const path = join(dir, 'latin1.txt');
    await writeFile(path, Buffer.from(`${SEED[0]}\n\xe9t\xe9\n`, 'latin1'));
    const error = await inputErrorAsync(() => readImageList(path));
    expect(error.problems).toEqual([{ file: path, message: expect.stringContaining('is not a text file (not valid UTF-8)') }]);
  });

  it('reports a file it has no permission to read', async () => {
    const path = join(dir, 'secret.txt');
    await writeFile(path, SEED[0] ?? '');
    await chmod(path, 0o000);
    await chmod(dir, 0o755);
    // Root reads anything, so as root the check runs as the unprivileged user "nobody".
    const asNobody = process.getuid?.() === 0 ? ['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups'] : [];
    const script = `import(${JSON.stringify(new URL('../../src/list/image-list.ts', import.meta.url).href)}).then((m) => m.readImageList(${JSON.stringify(path)})).catch((e) => { console.log(JSON.stringify(e.problems)); })`;
    const [command, ...args] = [...asNobody, process.execPath, '--import', 'tsx', '--input-type=module', '-e', script];
    const { stdout } = await execFileAsync(command!, args, { cwd: new URL('../..', import.meta.url).pathname });
    expect(JSON.parse(stdout)).toEqual([{ file: path, message: expect.stringContaining('permission denied') }]);
  });

  it('reports a path whose parent is a file', async () => {
    const file = join(dir, 'plain.txt');
    await writeFile(file, '');
    const error = await inputErrorAsync(() => readImageList(join(file, 'list.txt')));
    expect(error.problems[0]?.message).toContain('cannot be read');
  });
});
