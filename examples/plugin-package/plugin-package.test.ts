import { cpSync, mkdirSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeImage, pushImage } from '../../testkit/images.js';
import { listTags } from '../../testkit/pull.js';
import { startRegistry, type RegistryServer } from '../../testkit/registry-server.js';
import { createConfigWorkspace, type ConfigWorkspace } from '../../test/config/config-workspace.js';
import { snapshotStorage } from '../../test/support/storage-snapshot.js';
import { filesystemConfig } from '../../test/support/workspace.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const projectRoot = path.resolve(here, '../..');
const packageName = 'registry-clean-plugin-max-deletions';
/** Makes `typescript` impossible to require() or import() in rc (see test/config/fixtures). */
const forbidTypescript = pathToFileURL(path.join(projectRoot, 'test/config/fixtures/forbid-typescript.mjs')).href;
const TYPESCRIPT_MARKER = 'FORBIDDEN-TYPESCRIPT-LOADED';

describe('a plugin shipped as its own package', () => {
  let registry: RegistryServer;
  let workspace: ConfigWorkspace;

  /** rc as a user without the typescript package runs it. */
  const rc = async (...args: string[]) => {
    const existing = process.env.NODE_OPTIONS ?? '';
    const result = await workspace.rc(args, { env: { NODE_OPTIONS: `${existing} --import=${forbidTypescript}`.trim() } });
    expect(result.stderr).not.toContain(TYPESCRIPT_MARKER);
    return result;
  };

  const writeConfig = (max: number) =>
    workspace.write('registry-clean.config.json', JSON.stringify({ ...filesystemConfig(registry), plugins: [[packageName, { max }]] }, null, 2));

  beforeAll(async () => {
    registry = await startRegistry();
    workspace = createConfigWorkspace();
    // Installed as npm would: the package's files in node_modules/<name>, registry-clean (its peer) beside it.
    const installed = path.join(workspace.dir, 'node_modules', packageName);
    mkdirSync(installed, { recursive: true });
    for (const file of ['package.json', 'index.ts', 'README.md']) cpSync(path.join(here, file), path.join(installed, file));
    symlinkSync(projectRoot, path.join(workspace.dir, 'node_modules', 'registry-clean'), 'dir');
  });
  afterAll(async () => {
    await registry?.stop();
    workspace?.remove();
  });

  it('loads by package name from a JSON config and shows its step after resolve in rc plugins, without the typescript package', async () => {
    writeConfig(1);
    const result = await rc('plugins', '--json');
    expect(result.exitCode, result.stderr).toBe(0);
    const steps = (JSON.parse(result.stdout).steps as Array<{ id: string; plugin: string }>).map((s) => `${s.id} [${s.plugin}]`);
    expect(steps.slice(2, 5)).toEqual(['resolve [registry-clean]', 'max-deletions [max-deletions]', 'delete [registry-clean]']);
  });

  it('stops the run before anything is deleted when the list deletes more than allowed (exit 1, naming the plugin)', async () => {
    await pushImage(registry.url, 'pkg/app', ['1'], makeImage({ seed: 'pkg/app/1' }));
    await pushImage(registry.url, 'pkg/app', ['2'], makeImage({ seed: 'pkg/app/2' }));
    writeConfig(1);
    workspace.write('registry-images-clean.txt', `${registry.host}/pkg/app:1\n${registry.host}/pkg/app:2\n`);
    const before = snapshotStorage(registry.storageRoot);

    const result = await rc('clean');

    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('plugin max-deletions, step max-deletions failed: the list would delete 2 images, more than the 1 allowed');
    expect(await listTags(registry.url, 'pkg/app')).toEqual(['1', '2']);
    expect(snapshotStorage(registry.storageRoot)).toEqual(before);
  });

  it('lets a run within the limit delete as usual', async () => {
    await pushImage(registry.url, 'pkg/ok', ['1', '2'], makeImage({ seed: 'pkg/ok' }));
    await pushImage(registry.url, 'pkg/ok', ['3'], makeImage({ seed: 'pkg/ok/3' }));
    writeConfig(2);
    workspace.write('registry-images-clean.txt', `${registry.host}/pkg/ok:1\n${registry.host}/pkg/ok:2\n`);

    const result = await rc('clean');

    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stderr).toContain('Check at most 2 images are deleted: 2 planned');
    expect(await listTags(registry.url, 'pkg/ok')).toEqual(['3']);
  });
});
