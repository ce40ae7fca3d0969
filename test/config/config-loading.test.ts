import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startRegistry, type RegistryServer } from '../../testkit/registry-server.js';
import { pushSeedImages } from '../../testkit/seed-images.js';
import type { CliResult } from '../support/run-cli.js';
import { expectUntouched, registryState, type RegistryState } from '../input/registry-state.js';
import { searchPlaces } from '../../src/config/load-config.js';
import { createConfigWorkspace, type ConfigWorkspace } from './config-workspace.js';
import { startCountingProxy, type CountingProxy } from './counting-proxy.js';

/**
 * Where the config comes from, proved by what a user sees: each candidate config points at a
 * different image list, each list names an image tagged after its source, and `rc clean
 * --dry-run` reports exactly the images of the list that was used.
 */

const here = path.dirname(fileURLToPath(import.meta.url));
const projectRoot = path.resolve(here, '../..');
const publicApi = path.join(projectRoot, 'src/index.ts');
const forbidTypescript = pathToFileURL(path.join(here, 'fixtures/forbid-typescript.mjs')).href;
const TYPESCRIPT_MARKER = 'FORBIDDEN-TYPESCRIPT-LOADED';

describe('where rc finds its config and what overrides it', () => {
  let registry: RegistryServer;
  let workspace: ConfigWorkspace;
  let before: RegistryState;

  /** A list naming one image whose tag says where the list came from (`demo/nginx:<marker>`). */
  const writeList = (relative: string, marker: string) => workspace.write(relative, `# list ${marker}\n${registry.host}/demo/nginx:${marker}\n`);

  /** The markers of the images a dry run reported, in order. */
  const markersIn = (result: CliResult): string[] =>
    [...result.stdout.matchAll(/\/demo\/nginx:(from-[a-z0-9-]+)/g)].map((m) => m[1]!).filter((m, i, all) => all.indexOf(m) === i);

  const dryRun = async (args: string[] = [], options: { cwd?: string; env?: Record<string, string | undefined> } = {}): Promise<CliResult> => {
    const result = await workspace.rc(['clean', '--dry-run', ...args], options);
    expect(result.exitCode, `rc clean --dry-run ${args.join(' ')} failed:\n${result.stderr}`).toBe(0);
    return result;
  };

  beforeAll(async () => {
    registry = await startRegistry();
    await pushSeedImages(registry.url);
    before = await registryState(registry);
  });
  afterEach(() => workspace?.remove());
  afterAll(async () => {
    // Everything here is a dry run: the registry must come out as it went in.
    if (registry) await expectUntouched(registry, before);
    await registry?.stop();
  });

  describe('a registry-clean.config.ts', () => {
    it('(test guard) typescript is installed here, yet the runs below cannot require() or import() it', async () => {
      const run = (args: string[], env: NodeJS.ProcessEnv) =>
        new Promise<{ code: number; stderr: string }>((resolve) => {
          execFile(process.execPath, args, { cwd: projectRoot, env }, (error, _stdout, stderr) =>
            resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stderr }),
          );
        });
      const guarded = { ...process.env, NODE_OPTIONS: `--import=${forbidTypescript}` };
      const unguarded = { ...process.env, NODE_OPTIONS: '' };
      expect((await run(['-e', 'require("typescript")'], unguarded)).code).toBe(0);
      expect((await run(['--input-type=module', '-e', 'await import("typescript")'], unguarded)).code).toBe(0);
      const required = await run(['-e', 'require("typescript")'], guarded);
      expect(required.code).not.toBe(0);
      expect(required.stderr).toContain(TYPESCRIPT_MARKER);
      const imported = await run(['--input-type=module', '-e', 'await import("typescript")'], guarded);
      expect(imported.code).not.toBe(0);
      expect(imported.stderr).toContain(TYPESCRIPT_MARKER);
    });

    it('using defineConfig from the package and a relative .ts import loads on Node 20 without the typescript package', async () => {
      workspace = createConfigWorkspace();
      workspace.write(
        'ops/lists.ts',
        [
          'export interface ListChoice { readonly file: string }',
          "enum Source { Ts = 'from-ts-config' }",
          'export const chosen = { file: `lists/${Source.Ts}.txt` } as const satisfies ListChoice;',
          '',
        ].join('\n'),
      );
      workspace.write(
        'registry-clean.config.ts',
        [
          `import { defineConfig, type ConfigEnv } from ${JSON.stringify(publicApi)};`,
          "import { chosen } from './ops/lists';",
          '',
          "export default defineConfig(({ command }: ConfigEnv) => ({ file: command === 'clean' ? chosen.file : 'lists/from-wrong-command.txt' }));",
          '',
        ].join('\n'),
      );
      writeList('lists/from-ts-config.txt', 'from-ts-config');
      writeList('registry-images-clean.txt', 'from-default-list');

      expect(process.versions.node.split('.')[0]).toBe('20');
      const existingOptions = process.env.NODE_OPTIONS ?? '';
      const result = await dryRun([], { env: { NODE_OPTIONS: `${existingOptions} --import=${forbidTypescript}`.trim() } });
      expect(result.stderr).not.toContain(TYPESCRIPT_MARKER);
      expect(markersIn(result)).toEqual(['from-ts-config']);
    });
  });

  it('a .registry-cleanrc.yaml in the current directory is used', async () => {
    workspace = createConfigWorkspace();
    workspace.write('.registry-cleanrc.yaml', '# rc config\nfile: lists/from-rc-yaml.txt\n');
    writeList('lists/from-rc-yaml.txt', 'from-rc-yaml');
    writeList('registry-images-clean.txt', 'from-default-list');
    expect(markersIn(await dryRun())).toEqual(['from-rc-yaml']);
  });

  // rc looks for these names itself before it loads its config loader: each must still be found.
  it.each(searchPlaces.filter((place) => place !== 'package.json'))('a config named %s, in the directory above, is used', async (place) => {
    workspace = createConfigWorkspace();
    const marker = `from-${place.replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '')}`;
    const config = { file: `lists/${marker}.txt` };
    const ext = path.extname(place);
    const text =
      ext === '.json' ? JSON.stringify(config)
      : ext === '.js' || ext === '.cjs' ? `module.exports = ${JSON.stringify(config)};\n`
      : ext === '.mjs' || ext === '.ts' || ext === '.mts' ? `export default ${JSON.stringify(config)};\n`
      : `file: ${config.file}\n`;
    workspace.write(place, text);
    writeList(`lists/${marker}.txt`, marker);
    writeList('deploy/registry-images-clean.txt', 'from-default-list');
    expect(markersIn(await dryRun([], { cwd: 'deploy' }))).toEqual([marker]);
  });

  it('a "registry-clean" key in package.json is used', async () => {
    workspace = createConfigWorkspace();
    workspace.write('package.json', JSON.stringify({ name: 'ops', private: true, 'registry-clean': { file: 'lists/from-package-json.txt' } }, null, 2));
    writeList('lists/from-package-json.txt', 'from-package-json');
    writeList('registry-images-clean.txt', 'from-default-list');
    expect(markersIn(await dryRun())).toEqual(['from-package-json']);
  });

  it('a config in a parent directory is found when rc runs in a subdirectory, and its relative file is read next to it', async () => {
    workspace = createConfigWorkspace();
    workspace.write('registry-clean.config.yaml', 'file: lists/from-parent-config.txt\n');
    writeList('lists/from-parent-config.txt', 'from-parent-config');
    // Decoys: the same relative path and the default name, below the directory rc runs in.
    writeList('services/api/deploy/lists/from-parent-config.txt', 'from-cwd-relative-path');
    writeList('services/api/deploy/registry-images-clean.txt', 'from-default-list');
    expect(markersIn(await dryRun([], { cwd: 'services/api/deploy' }))).toEqual(['from-parent-config']);
  });

  it('the search stops at the project root: a config above the nearest package.json is not used', async () => {
    workspace = createConfigWorkspace();
    const outside = writeList('lists/from-outside-project.txt', 'from-outside-project');
    workspace.write('registry-clean.config.yaml', `file: ${JSON.stringify(outside)}\n`);
    workspace.write('app/package.json', JSON.stringify({ name: 'app', private: true }));
    writeList('app/registry-images-clean.txt', 'from-default-list');
    expect(markersIn(await dryRun([], { cwd: 'app' }))).toEqual(['from-default-list']);
  });

  it('--config overrides the config that the search would find', async () => {
    workspace = createConfigWorkspace();
    workspace.write('registry-clean.config.yaml', 'file: lists/from-searched-config.txt\n');
    // A config's relative file is read next to that config.
    workspace.write('ops/override.config.yaml', 'file: ../lists/from-explicit-config.txt\n');
    writeList('lists/from-searched-config.txt', 'from-searched-config');
    writeList('lists/from-explicit-config.txt', 'from-explicit-config');
    expect(markersIn(await dryRun(['--config', 'ops/override.config.yaml']))).toEqual(['from-explicit-config']);
  });

  it('the config\'s file is the list when --file is not given, instead of registry-images-clean.txt', async () => {
    workspace = createConfigWorkspace();
    workspace.write('registry-clean.config.json', JSON.stringify({ file: 'lists/from-config-file.txt' }));
    writeList('lists/from-config-file.txt', 'from-config-file');
    writeList('registry-images-clean.txt', 'from-default-list');
    expect(markersIn(await dryRun())).toEqual(['from-config-file']);
  });

  it('--file overrides the config\'s file', async () => {
    workspace = createConfigWorkspace();
    workspace.write('registry-clean.config.json', JSON.stringify({ file: 'lists/from-config-file.txt' }));
    writeList('lists/from-config-file.txt', 'from-config-file');
    writeList('lists/from-flag.txt', 'from-flag');
    expect(markersIn(await dryRun(['--file', 'lists/from-flag.txt']))).toEqual(['from-flag']);
  });

  describe('concurrency, seen as requests held in flight at once by a proxy in front of the registry', () => {
    let proxy: CountingProxy;
    /** Six repositories (three exist, three do not): one tags/list request each. */
    const repositories = ['demo/nginx', 'library/busybox', 'registry', 'demo/from-none-a', 'demo/from-none-b', 'demo/from-none-c'];

    beforeAll(async () => {
      proxy = await startCountingProxy(registry.url, 500);
    });
    afterAll(async () => {
      await proxy?.close();
    });

    const runWith = async (configConcurrency: number, args: string[]): Promise<number> => {
      workspace = createConfigWorkspace();
      workspace.write('registry-clean.config.json', JSON.stringify({ concurrency: configConcurrency }));
      workspace.write('registry-images-clean.txt', repositories.map((r) => `${proxy.host}/${r}:from-concurrency-test`).join('\n') + '\n');
      proxy.reset();
      await dryRun(args);
      expect(proxy.total()).toBeGreaterThanOrEqual(repositories.length);
      return proxy.maxInFlight();
    };

    it('the config\'s concurrency: 4 keeps exactly 4 requests in flight', async () => {
      expect(await runWith(4, [])).toBe(4);
    });

    it('--concurrency 1 overrides the config\'s 4: one request at a time', async () => {
      expect(await runWith(4, ['--concurrency', '1'])).toBe(1);
    });

    it('--concurrency 3 overrides the config\'s 1: three requests at a time', async () => {
      expect(await runWith(1, ['--concurrency', '3'])).toBe(3);
    });
  });
});
