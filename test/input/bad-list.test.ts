import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startRegistry, type RegistryServer } from '../../testkit/registry-server.js';
import { pushSeedImages } from '../../testkit/seed-images.js';
import { runCli, type CliResult } from '../support/run-cli.js';
import { createWorkspace, filesystemConfig, type Workspace } from '../support/workspace.js';
import { expectSeedIntact, expectUntouched, linesStartingWith, markProjectRoot, registryState, type RegistryState } from './registry-state.js';

/**
 * "Bad input touches nothing": every list below holds images that exist and would be deleted,
 * garbage-collected and restarted for if rc went ahead. The config is a real operator's config
 * (filesystem storage, GC and restart commands), and no test uses --dry-run.
 */

const LIST = 'registry-images-clean.txt';
const HUGE_TAG = 'h'.repeat(10_000);

interface BadLine {
  label: string;
  text: string;
  /** What the message must say is wrong. */
  wrong: RegExp;
}

type ListLine = { good: string } | { bad: BadLine } | { ignored: string };

/** The corpus, in file order; good lines name seed images that exist. */
function corpus(host: string): ListLine[] {
  return [
    { ignored: '# images to delete after the 2024 migration' },
    { good: `${host}/library/busybox:1.36.1` },
    { bad: { label: 'a missing tag', text: `${host}/library/busybox`, wrong: /no tag or digest/ } },
    { bad: { label: 'an uppercase repository', text: `${host}/Library/busybox:1.35.0`, wrong: /lowercase/ } },
    { ignored: '' },
    { bad: { label: 'a ".." path traversal', text: `${host}/../etc/passwd:latest`, wrong: /"\.\."/ } },
    { bad: { label: 'a percent-encoded %2e%2e', text: `${host}/%2e%2e/etc/passwd:latest`, wrong: /percent|"%"/ } },
    { bad: { label: 'an absolute path /x', text: '/x', wrong: /starts with "\/"|registry host/ } },
    { bad: { label: 'a backslash', text: `${host}\\library\\busybox:1.35.0`, wrong: /backslash/ } },
    { good: `${host}/registry:latest` },
    { bad: { label: 'a ";rm -rf /" shell suffix', text: `${host}/demo/nginx:1.26;rm -rf /`, wrong: /";"/ } },
    { bad: { label: 'a $(id) command substitution', text: `${host}/demo/$(id):latest`, wrong: /"\$"/ } },
    { bad: { label: 'a backtick command substitution', text: `${host}/demo/\`id\`:latest`, wrong: /"`"/ } },
    { ignored: '   # an indented comment' },
    { bad: { label: 'a space inside the reference', text: `${host}/demo/my nginx:latest`, wrong: /whitespace|space/ } },
    { bad: { label: 'a tag longer than 128 characters', text: `${host}/demo/nginx:${'t'.repeat(129)}`, wrong: /128/ } },
    { bad: { label: 'a malformed digest', text: `${host}/demo/nginx@sha256:not-a-digest`, wrong: /digest|hex/ } },
    { bad: { label: 'both a tag and a digest', text: `${host}/demo/nginx:1.26@sha256:${'a'.repeat(64)}`, wrong: /tag or a digest, not both|both/ } },
    { bad: { label: 'a missing registry host', text: 'demo/nginx:1.26', wrong: /registry host/ } },
    { bad: { label: 'a 10,000-character line', text: `${host}/demo/nginx:${HUGE_TAG}`, wrong: /characters long|too long/ } },
    { good: `  ${host}/demo/nginx:latest   # the trailing comment is fine` },
  ];
}

function badLines(lines: ListLine[]): Array<BadLine & { line: number }> {
  return lines.flatMap((entry, index) => ('bad' in entry ? [{ ...entry.bad, line: index + 1 }] : []));
}

function otherLines(lines: ListLine[]): number[] {
  return lines.flatMap((entry, index) => ('bad' in entry ? [] : [index + 1]));
}

function listText(lines: ListLine[]): string[] {
  return lines.map((entry) => ('good' in entry ? entry.good : 'bad' in entry ? entry.bad.text : entry.ignored));
}

/** The line numbers that stderr reports as `<file>:<line>:`, in the order it reports them (first report only). */
function reportedLines(stderr: string, file: string): number[] {
  const pattern = new RegExp(`^\\s*${file.replace(/[.]/g, '\\.')}:(\\d+): `);
  const lines: number[] = [];
  for (const line of stderr.split('\n')) {
    const match = pattern.exec(line);
    if (match) lines.push(Number(match[1]));
  }
  // The progress renderer and the final error may both print the list: keep its first full pass.
  const seen = new Set<number>();
  const firstPass: number[] = [];
  for (const line of lines) {
    if (seen.has(line)) break;
    seen.add(line);
    firstPass.push(line);
  }
  return firstPass;
}

describe('rc clean with a bad image list touches nothing', () => {
  let registry: RegistryServer;
  let workspace: Workspace;
  let lines: ListLine[];

  beforeAll(async () => {
    registry = await startRegistry();
    await pushSeedImages(registry.url);
    workspace = createWorkspace();
    markProjectRoot(workspace.dir);
    workspace.writeConfig(filesystemConfig(registry));
    lines = corpus(registry.host);
    workspace.writeList(listText(lines));
  });
  afterAll(async () => {
    await registry?.stop();
    workspace?.remove();
  });

  describe('a list with many bad lines among good ones', () => {
    let before: RegistryState;
    let result: CliResult;

    beforeAll(async () => {
      await expectSeedIntact(registry);
      before = await registryState(registry);
      result = await workspace.rc('clean');
    });

    it('exits 2 and leaves storage byte-identical, every tag in place and the registry not restarted', async () => {
      expect(result.exitCode).toBe(2);
      expect(result.stderr).toContain(`${LIST}:`);
      await expectUntouched(registry, before);
      expect(result.stdout).not.toMatch(/\bdeleted\b/);
    });

    it('reports every bad line, and only the bad lines, with the count of them', () => {
      const bad = badLines(lines);
      expect([...new Set(reportedLines(result.stderr, LIST))].sort((a, b) => a - b)).toEqual(bad.map((b) => b.line));
      expect(result.stderr).toContain(`${bad.length} invalid lines`);
      for (const line of otherLines(lines)) expect(result.stderr).not.toMatch(new RegExp(`${LIST.replace(/\./g, '\\.')}:${line}: `));
    });

    it('reports the bad lines in the order they appear in the file', () => {
      expect(reportedLines(result.stderr, LIST)).toEqual(badLines(lines).map((b) => b.line));
    });

    // One test per corpus entry, so a failure names the kind of bad line that slipped through.
    for (const [index, entry] of corpus('127.0.0.1:5000').entries()) {
      if (!('bad' in entry)) continue;
      const { label } = entry.bad;
      it(`names ${label} as ${LIST}:${index + 1} and says what is wrong with it`, () => {
        const bad = badLines(lines).find((b) => b.label === label)!;
        const reports = linesStartingWith(result.stderr, `${LIST}:${bad.line}: `);
        expect(reports.length, `no "${LIST}:${bad.line}: …" line in:\n${result.stderr}`).toBeGreaterThan(0);
        for (const report of reports) expect(report).toMatch(bad.wrong);
      });
    }

    it('quotes only the start of the 10,000-character line instead of echoing it whole', () => {
      expect(result.stderr).not.toContain('h'.repeat(200));
      const huge = badLines(lines).find((b) => b.text.includes(HUGE_TAG))!;
      for (const report of linesStartingWith(result.stderr, `${LIST}:${huge.line}: `)) expect(report.length).toBeLessThan(400);
      expect(result.stderr.length).toBeLessThan(20_000);
    });

    it('ends with a hint showing how a line must be written', () => {
      expect(result.stderr).toMatch(/Hint: .*host\[:port\]\/repository:tag/);
    });
  });

  describe('the same bad list with --json', () => {
    let before: RegistryState;
    let result: CliResult;

    beforeAll(async () => {
      before = await registryState(registry);
      result = await workspace.rc('clean', '--json');
    });

    it('exits 2 and touches nothing', async () => {
      expect(result.exitCode).toBe(2);
      expect(result.stdout).toContain(`"file": "${LIST}"`);
      await expectUntouched(registry, before);
    });

    it('prints exactly one JSON document whose error has exitCode 2 and a problem per bad line with file and line', () => {
      const document = JSON.parse(result.stdout) as {
        error?: { exitCode?: number; message?: string; problems?: Array<{ file: string; line?: number; message: string }> };
      };
      expect(Object.keys(document)).toEqual(['error']);
      expect(document.error?.exitCode).toBe(2);
      const problems = document.error?.problems ?? [];
      const bad = badLines(lines);
      expect(problems.map((p) => p.line).sort((a, b) => (a ?? 0) - (b ?? 0))).toEqual(bad.map((b) => b.line));
      for (const problem of problems) {
        expect(problem.file).toBe(LIST);
        const expected = bad.find((b) => b.line === problem.line)!;
        expect(problem.message, expected.label).toMatch(expected.wrong);
      }
      expect(result.stdout).not.toContain('h'.repeat(200));
    });
  });

  describe('lists that cannot be read or hold nothing', () => {
    let before: RegistryState;

    beforeEach(async () => {
      before = await registryState(registry);
    });

    it('refuses a binary file (NUL bytes) with exit 2, naming the file and saying it is not text, and touches nothing', async () => {
      const file = path.join(workspace.dir, 'images.bin');
      writeFileSync(file, Buffer.concat([Buffer.from(`${registry.host}/library/busybox:1.36.1\n`), Buffer.from([0, 0xff, 0x00, 0x7f, 0x0a])]));
      const result = await workspace.rc('clean', '--file', 'images.bin');
      expect(result.exitCode).toBe(2);
      expect(result.stderr).toMatch(/images\.bin: .*not a text file/);
      expect(result.stderr).not.toContain('\0');
      await expectUntouched(registry, before);
    });

    it('treats an empty file as nothing to do: exit 0, says so, and touches nothing', async () => {
      writeFileSync(path.join(workspace.dir, 'empty.txt'), '');
      const result = await workspace.rc('clean', '--file', 'empty.txt');
      expect(result.exitCode).toBe(0);
      expect(`${result.stdout}\n${result.stderr}`).toMatch(/lists no images|nothing to do|no images/i);
      expect(result.stdout + result.stderr).not.toMatch(/\bdeleted\b|restarted/);
      await expectUntouched(registry, before);
    });

    it('treats a file of only comments and blank lines as nothing to do, touching nothing', async () => {
      writeFileSync(path.join(workspace.dir, 'comments.txt'), `# nothing yet\n\n   # ${registry.host}/library/busybox:1.36.1\n\n`);
      const result = await workspace.rc('clean', '--file', 'comments.txt');
      expect(result.exitCode).toBe(0);
      expect(`${result.stdout}\n${result.stderr}`).toMatch(/lists no images|nothing to do|no images/i);
      await expectUntouched(registry, before);
    });

    it('refuses a missing default list with exit 2 and a hint mentioning --file, touching nothing', async () => {
      // A subdirectory without a list: the config is still found one level up.
      const sub = path.join(workspace.dir, 'elsewhere');
      mkdirSync(sub, { recursive: true });
      const result = await runCli(['clean'], { cwd: sub });
      expect(result.exitCode).toBe(2);
      expect(result.stderr).toContain(LIST);
      expect(result.stderr).toMatch(/not found/);
      expect(result.stderr).toContain('--file');
      await expectUntouched(registry, before);
    });

    it('refuses a missing --file with exit 2, naming that file', async () => {
      const result = await workspace.rc('clean', '--file', 'no-such-list.txt');
      expect(result.exitCode).toBe(2);
      expect(result.stderr).toMatch(/no-such-list\.txt: .*not found/);
      await expectUntouched(registry, before);
    });

    it('refuses a directory given as --file with exit 2, saying it is a directory', async () => {
      mkdirSync(path.join(workspace.dir, 'lists.d'), { recursive: true });
      const result = await workspace.rc('clean', '--file', 'lists.d');
      expect(result.exitCode).toBe(2);
      expect(result.stderr).toMatch(/lists\.d: .*directory/);
      await expectUntouched(registry, before);
    });
  });

  describe('images given as arguments', () => {
    it('refuses the whole run when one argument is bad, naming its position, and deletes none of the good ones', async () => {
      const before = await registryState(registry);
      const result = await workspace.rc(
        'clean',
        `${registry.host}/library/busybox:1.36.1`,
        `${registry.host}/demo/nginx:1.26;rm -rf /`,
        `${registry.host}/registry:latest`,
      );
      expect(result.exitCode).toBe(2);
      expect(linesStartingWith(result.stderr, 'argument:2: ').length).toBeGreaterThan(0);
      expect(linesStartingWith(result.stderr, 'argument:2: ')[0]).toMatch(/";"/);
      expect(result.stderr).not.toMatch(/argument:[13]: /);
      await expectUntouched(registry, before);
    });

    it('reports every bad argument, not only the first', async () => {
      const before = await registryState(registry);
      const result = await workspace.rc('clean', 'demo/nginx:1.26', `${registry.host}/registry:latest`, `${registry.host}/Demo/nginx:latest`);
      expect(result.exitCode).toBe(2);
      expect(linesStartingWith(result.stderr, 'argument:1: ')[0]).toMatch(/registry host/);
      expect(linesStartingWith(result.stderr, 'argument:3: ')[0]).toMatch(/lowercase/);
      await expectUntouched(registry, before);
    });
  });
});
