import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRegistry, type RegistryServer } from '../../testkit/registry-server.js';
import { pushSeedImages, seedCleanupList } from '../../testkit/seed-images.js';
import type { CliResult } from '../support/run-cli.js';
import { expectSeedIntact, expectUntouched, registryState, type RegistryState } from '../input/registry-state.js';
import { createConfigWorkspace, lineOf, operatorYaml, q, seq, type ConfigWorkspace } from './config-workspace.js';

/**
 * "A bad config touches nothing": each config below is an operator's working config with one
 * mistake, next to a valid list of images that exist. Had rc gone ahead, it would have deleted
 * them, collected garbage and restarted the registry. No test uses --dry-run.
 */

const UNSET_ENV = `RC_TEST_UNSET_PASSWORD_${process.pid}`;

interface BadConfig {
  /** What is wrong, as a noun phrase for the test names. */
  name: string;
  /** The config file's name in the workspace. */
  file: string;
  text(registry: RegistryServer): string;
  args?: string[];
  /** The list to run with; default the seed cleanup list (images that exist). */
  list?(registry: RegistryServer): string;
  /** What the message must name besides the file: the key (and whatever else identifies the mistake). */
  names: string[];
  /** Text on the line the message must point at (`file:<line>`), when the mistake is on a line of the file. */
  lineWith?: string;
  /** The file name the message must contain; default `file`. */
  shownFile?: string;
}

const yaml = (...lines: string[]): string => `# registry-clean config\n${lines.join('\n')}\n`;

const cases: BadConfig[] = [
  {
    name: 'an unknown top-level key',
    file: 'registry-clean.config.yaml',
    text: (r) => yaml(...operatorYaml(r), 'colour: blue'),
    names: ['colour'],
    lineWith: 'colour: blue',
  },
  {
    name: 'an unknown key inside gc',
    file: 'registry-clean.config.yaml',
    text: (r) => yaml(...operatorYaml(r).filter((l) => !l.startsWith('gc:') && !l.includes('garbage-collect')), 'gc:', '  enabled: true', '  schedule: daily'),
    names: ['gc', 'schedule'],
    lineWith: 'schedule: daily',
  },
  {
    name: 'concurrency: "many" (a string where a number belongs)',
    file: 'registry-clean.config.yaml',
    text: (r) => yaml(...operatorYaml(r), 'concurrency: many'),
    names: ['concurrency'],
    lineWith: 'concurrency: many',
  },
  {
    name: 'concurrency: "many" in a JSON config',
    file: 'registry-clean.config.json',
    text: (r) =>
      JSON.stringify(
        {
          storage: { backend: 'filesystem', root: r.storageRoot },
          gc: { command: ['docker-registry', 'garbage-collect', r.configPath] },
          restart: { command: r.restartCommand },
          concurrency: 'many',
        },
        null,
        2,
      ),
    names: ['concurrency'],
    lineWith: '"concurrency": "many"',
  },
  {
    name: 'gc: { enabled: "yes" } (a string where a boolean belongs)',
    file: 'registry-clean.config.yaml',
    text: (r) =>
      yaml(...operatorYaml(r).filter((l) => !l.startsWith('gc:') && !l.includes('garbage-collect')), 'gc:', '  enabled: "yes"', `  command: ${seq(['docker-registry', 'garbage-collect', r.configPath])}`),
    names: ['gc.enabled'],
    lineWith: 'enabled: "yes"',
  },
  {
    name: 'gc.enabled as a string in a registry-clean.config.ts',
    file: 'registry-clean.config.ts',
    text: (r) =>
      [
        `const root: string = ${q(r.storageRoot)};`,
        'export default {',
        `  storage: { backend: 'filesystem', root },`,
        '  gc: {',
        `    enabled: 'yes',`,
        `    command: ${seq(['docker-registry', 'garbage-collect', r.configPath])},`,
        '  },',
        `  restart: { command: ${seq(r.restartCommand)} },`,
        '};',
        '',
      ].join('\n'),
    names: ['gc.enabled'],
    lineWith: "enabled: 'yes'",
  },
  {
    name: 'an unknown storage backend',
    file: 'registry-clean.config.yaml',
    text: (r) => yaml('storage:', '  backend: s3', `  root: ${q(r.storageRoot)}`, ...operatorYaml(r).slice(3)),
    names: ['storage.backend', 's3'],
    lineWith: 'backend: s3',
  },
  {
    name: 'a filesystem storage without its root',
    file: 'registry-clean.config.yaml',
    text: (r) => yaml('storage:', '  backend: filesystem', ...operatorYaml(r).slice(3)),
    names: ['storage.root'],
  },
  {
    name: 'an unknown option of the filesystem storage',
    file: 'registry-clean.config.yaml',
    text: (r) => yaml(...operatorYaml(r).slice(0, 3), `  rootdirectory: ${q(r.storageRoot)}`, ...operatorYaml(r).slice(3)),
    names: ['storage.rootdirectory'],
    lineWith: 'rootdirectory:',
  },
  {
    name: 'a YAML syntax error',
    file: 'registry-clean.config.yaml',
    // The flow sequence is never closed: js-yaml stops at the next line.
    text: (r) => yaml(...operatorYaml(r).slice(0, 3), 'gc:', '  command: [docker-registry, garbage-collect', 'restart:', `  command: ${seq(r.restartCommand)}`),
    names: [],
    lineWith: 'restart:',
  },
  {
    name: 'a --config path that does not exist',
    file: 'registry-clean.config.yaml',
    // A valid config is there to be found: --config must not silently fall back to it.
    text: (r) => yaml(...operatorYaml(r)),
    args: ['--config', 'ops/missing.config.yaml'],
    names: [],
    shownFile: 'ops/missing.config.yaml',
  },
  {
    name: 'a passwordEnv naming an unset variable',
    file: 'registry-clean.config.yaml',
    text: (r) => yaml(...operatorYaml(r), 'registries:', `  ${q(r.host)}:`, '    username: ci', `    passwordEnv: ${UNSET_ENV}`),
    names: ['passwordEnv', UNSET_ENV],
    lineWith: 'passwordEnv:',
  },
  {
    name: 'a registries key with a scheme (a URL where host[:port] belongs)',
    file: 'registry-clean.config.yaml',
    text: (r) => yaml(...operatorYaml(r), 'registries:', `  ${q(`http://${r.host}`)}:`, '    insecure: true'),
    names: ['registries', `http://`, 'host[:port]'],
    lineWith: 'http://',
  },
  {
    name: 'a registries key in capitals (image references name hosts in lowercase, so it would never match)',
    file: 'registry-clean.config.yaml',
    text: (r) => yaml(...operatorYaml(r), 'registries:', `  ${q(`LOCALHOST:${r.port}`)}:`, '    insecure: true'),
    names: ['registries', 'lowercase', `localhost:`],
    lineWith: 'LOCALHOST',
  },
  {
    name: 'a top-level storage while the list names two registries',
    file: 'registry-clean.config.yaml',
    text: (r) => yaml(...operatorYaml(r)),
    list: (r) => `${seedCleanupList(r.host)}127.0.0.1:1/library/busybox:1.36.1\n`,
    names: ['storage', '127.0.0.1:1'],
    lineWith: 'storage:',
  },
];

describe('rc clean refuses a bad config and touches nothing', () => {
  let registry: RegistryServer;

  beforeAll(async () => {
    registry = await startRegistry();
    await pushSeedImages(registry.url);
  });
  afterAll(async () => {
    await registry?.stop();
  });

  for (const bad of cases) {
    describe(`a config with ${bad.name}`, () => {
      let workspace: ConfigWorkspace;
      let before: RegistryState;
      let result: CliResult;
      let text: string;

      beforeAll(async () => {
        workspace = createConfigWorkspace();
        text = bad.text(registry);
        workspace.write(bad.file, text);
        workspace.write('registry-images-clean.txt', bad.list ? bad.list(registry) : seedCleanupList(registry.host));
        await expectSeedIntact(registry);
        before = await registryState(registry);
        result = await workspace.rc(['clean', ...(bad.args ?? [])], { env: { [UNSET_ENV]: undefined } });
      });
      afterAll(() => workspace?.remove());

      it('exits 2, deletes nothing, leaves storage byte-identical and does not restart the registry', async () => {
        expect(result.exitCode, result.stderr).toBe(2);
        // Refused for this config, not for some other reason that also exits 2 (a missing build, a bad flag).
        expect(result.stderr).toContain(bad.shownFile ?? bad.file);
        await expectUntouched(registry, before);
      });

      it(`names the file${bad.names.length ? ` and ${bad.names.join(', ')}` : ''} in the error`, () => {
        expect(result.stderr).toContain(bad.shownFile ?? bad.file);
        for (const name of bad.names) expect(result.stderr).toContain(name);
      });

      if (bad.lineWith) {
        const needle = bad.lineWith;
        it(`points at the line of the mistake as ${bad.file}:<line>`, () => {
          const line = lineOf(text, needle);
          expect(result.stderr).toMatch(new RegExp(`${bad.file.replace(/\./g, '\\.')}:${line}\\b`));
        });
      }
    });
  }

  describe('rc ls', () => {
    it('refuses an invalid config with exit 2, naming the file and key', async () => {
      const workspace = createConfigWorkspace();
      try {
        workspace.write('registry-clean.config.yaml', yaml(`registries:`, `  ${q(registry.host)}:`, '    insecure: "sometimes"'));
        const result = await workspace.rc(['ls']);
        expect(result.exitCode).toBe(2);
        expect(result.stderr).toContain('registry-clean.config.yaml:4');
        expect(result.stderr).toContain('insecure');
        expect(result.stdout).not.toContain('repositories:');
      } finally {
        workspace.remove();
      }
    });
  });
});
