import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRegistry, type RegistryServer } from '../../testkit/registry-server.js';
import { pushSeedImages, seedCleanupList } from '../../testkit/seed-images.js';
import { runCli } from '../support/run-cli.js';
import { createWorkspace, filesystemConfig, type Workspace } from '../support/workspace.js';
import { expectSeedIntact, expectUntouched, markProjectRoot, registryState } from './registry-state.js';

/** The exit-code section `--help` must show, one line per code, as scripts rely on them. */
function expectExitCodeSection(help: string): void {
  expect(help).toMatch(/^\s*EXIT CODES\s*$/m);
  const section = help.slice(help.search(/^\s*EXIT CODES\s*$/m));
  expect(section).toMatch(/^\s*0\s+nothing failed/m);
  expect(section).toMatch(/^\s*1\s+something failed at run time/m);
  expect(section).toMatch(/^\s*2\s+bad usage, image list or config/m);
}

describe('help and usage errors', () => {
  let registry: RegistryServer;
  let workspace: Workspace;

  beforeAll(async () => {
    registry = await startRegistry();
    await pushSeedImages(registry.url);
    workspace = createWorkspace();
    markProjectRoot(workspace.dir);
    workspace.writeConfig(filesystemConfig(registry));
    // A valid list of images that exist: any run that went ahead would delete them.
    workspace.writeList(seedCleanupList(registry.host).trim().split('\n'));
  });
  afterAll(async () => {
    await registry?.stop();
    workspace?.remove();
  });

  it('rc clean --help explains exit codes 0, 1 and 2, and cleans nothing', async () => {
    await expectSeedIntact(registry);
    const before = await registryState(registry);
    const result = await workspace.rc('clean', '--help');
    expect(result.exitCode).toBe(0);
    expectExitCodeSection(result.stdout);
    await expectUntouched(registry, before);
  });

  it('rc ls --help explains exit codes 0, 1 and 2', async () => {
    const result = await workspace.rc('ls', '--help');
    expect(result.exitCode).toBe(0);
    expectExitCodeSection(result.stdout);
  });

  it('rc clean with an unknown flag exits 2, names the flag and deletes nothing from a valid list', async () => {
    await expectSeedIntact(registry);
    const before = await registryState(registry);
    const result = await workspace.rc('clean', '--delete-everything');
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('--delete-everything');
    await expectUntouched(registry, before);
  });

  it('rc clean with an unknown flag after an image argument exits 2 and deletes nothing', async () => {
    const before = await registryState(registry);
    const result = await workspace.rc('clean', `${registry.host}/library/busybox:1.36.1`, '--forse');
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('--forse');
    await expectUntouched(registry, before);
  });

  it('rc clean --json with an unknown flag prints one JSON error with exitCode 2', async () => {
    const before = await registryState(registry);
    const result = await workspace.rc('clean', '--json', '--bogus');
    expect(result.exitCode).toBe(2);
    const document = JSON.parse(result.stdout) as { error?: { exitCode?: number; message?: string } };
    expect(document.error?.exitCode).toBe(2);
    expect(document.error?.message).toContain('--bogus');
    await expectUntouched(registry, before);
  });

  it('rc ls and rc doctor with a malformed --registry exit 2 naming each bad value, and send nothing to the good one', async () => {
    for (const command of ['ls', 'doctor']) {
      const result = await workspace.rc(command, '--registry', registry.host, '--registry', 'bad host', '--registry', `http://${registry.host}`);
      expect(result.exitCode, result.stderr).toBe(2);
      expect(result.stderr).toContain('--registry: registry host "bad host" contains " "');
      expect(result.stderr).toContain(`--registry: "http://${registry.host}" is not a registry host: write host[:port] alone`);
      // Nothing listed: the valid registry is not reached before every value is checked.
      expect(result.stdout).not.toContain(registry.host);
    }
  });

  it('rc ls with an unknown flag exits 2', async () => {
    const result = await workspace.rc('ls', '--bogus');
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('--bogus');
  });

  it('rc clean with no image argument reads its list file, never what is piped to it', async () => {
    // A shell loop's input reaches every command in the loop: `rc clean` must not take it for images.
    const result = await runCli(['clean', '--dry-run'], { cwd: workspace.dir, input: `${registry.host}/library/busybox:1.35.0\n` });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stderr).toContain('from registry-images-clean.txt');
    expect(result.stdout).toContain(`would delete  ${registry.host}/library/busybox:1.36.1`);
    expect(result.stdout).not.toContain('busybox:1.35.0');
  });

  it('rc clean --concurrency 0 is refused with exit 2 before anything is touched', async () => {
    const before = await registryState(registry);
    const result = await workspace.rc('clean', '--concurrency', '0');
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('--concurrency');
    await expectUntouched(registry, before);
  });
});
