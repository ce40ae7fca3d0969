import { mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeImage, pushImage } from '../../testkit/images.js';
import { listTags, manifestDigest, pullImage } from '../../testkit/pull.js';
import { startRegistry, type RegistryServer } from '../../testkit/registry-server.js';
import { createConfigWorkspace, type ConfigWorkspace } from '../config/config-workspace.js';
import { snapshotStorage } from '../support/storage-snapshot.js';
import { filesystemConfig } from '../support/workspace.js';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const coreSteps = ['parse-list', 'verify', 'resolve', 'delete', 'prune', 'gc', 'restart'];

interface ListedStep {
  id: string;
  title: string;
  plugin: string;
  placed?: string;
  always?: boolean;
}

/**
 * The plugin API as a plugin author meets it: plugins written inline in a TypeScript
 * `registry-clean.config.ts` that imports `defineConfig` and `definePlugin` from the installed
 * package (node_modules/registry-clean is this built project), run by the built `rc`.
 */
describe('plugins defined in a registry-clean.config.ts', () => {
  let registry: RegistryServer;
  let workspace: ConfigWorkspace;

  beforeAll(async () => {
    registry = await startRegistry();
  });
  afterEach(() => workspace?.remove());
  afterAll(async () => {
    await registry?.stop();
  });

  /**
   * A project whose TypeScript config is `code` (plugins and helpers) followed by
   * `export default defineConfig({ ...operator, plugins: [<plugins>] })`, where `operator` is a
   * working filesystem/GC/restart config for the test registry; the list names `images`.
   */
  const project = (code: string, plugins: string, images: string[]) => {
    workspace = createConfigWorkspace();
    mkdirSync(path.join(workspace.dir, 'node_modules'));
    symlinkSync(projectRoot, path.join(workspace.dir, 'node_modules', 'registry-clean'), 'dir');
    workspace.write(
      'registry-clean.config.ts',
      [
        "import { defineConfig, definePlugin, defineStep, type DeletionAction, type ImageOutcome, type StepContext } from 'registry-clean';",
        "import { writeFileSync } from 'node:fs';",
        '',
        `const operator = ${JSON.stringify(filesystemConfig(registry))};`,
        `const registryHost: string = ${JSON.stringify(registry.host)};`,
        '',
        code,
        '',
        `export default defineConfig({ ...operator, plugins: [${plugins}] });`,
        '',
      ].join('\n'),
    );
    workspace.write('registry-images-clean.txt', images.map((i) => `${registry.host}/${i}`).join('\n') + '\n');
  };
  const rc = (...args: string[]) => workspace.rc(args);
  const listed = async (): Promise<ListedStep[]> => {
    const result = await rc('plugins', '--json');
    expect(result.exitCode, result.stderr).toBe(0);
    return JSON.parse(result.stdout).steps;
  };

  it('shows an inline plugin’s step in rc plugins right after the step it names, with its plugin name, and runs it between planning and deleting', async () => {
    const digest = await pushImage(registry.url, 'api/inline', ['old'], makeImage({ seed: 'api/inline/old' }));
    await pushImage(registry.url, 'api/inline', ['new'], makeImage({ seed: 'api/inline/new' }));
    project(
      `
interface AuditOptions { readonly file: string }
enum Phase { Planned = 'planned' }

const audit = definePlugin((options: AuditOptions) => ({
  name: 'audit-trail',
  steps: [
    defineStep({
      id: 'record-plan',
      title: 'Record the plan',
      after: 'resolve',
      async run(ctx: StepContext) {
        const seen = ctx.images.map((i) => ({ image: i.image, status: i.status, method: i.method, digest: i.digest }));
        writeFileSync(options.file, JSON.stringify({ phase: Phase.Planned, seen, planned: ctx.plan.length }));
      },
    }),
  ],
}));`,
      "audit({ file: process.cwd() + '/seen.json' })",
      ['api/inline:old'],
    );

    const text = await rc('plugins');
    expect(text.exitCode, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^\s+4\. record-plan\s+Record the plan\s+\[audit-trail\]\s+\(after resolve\)$/m);
    expect(text.stdout).toMatch(/^\s+5\. delete\s+Delete images\s+\[registry-clean\]$/m);
    expect((await listed()).map((s) => s.id)).toEqual(['parse-list', 'verify', 'resolve', 'record-plan', 'delete', 'prune', 'gc', 'restart']);

    const result = await rc('clean');
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stderr).toContain('Record the plan');
    // The step saw the plan, and nothing deleted yet.
    const seen = JSON.parse(readFileSync(path.join(workspace.dir, 'seen.json'), 'utf8'));
    expect(seen).toEqual({
      phase: 'planned',
      seen: [{ image: `${registry.host}/api/inline:old`, status: 'pending', method: 'manifest-delete', digest }],
      planned: 1,
    });
    expect(await listTags(registry.url, 'api/inline')).toEqual(['new']);
  });

  describe('a step that throws', () => {
    const thrower = (after: string) => `
const failing = definePlugin(() => ({
  name: 'policy',
  steps: [{ id: 'ask-policy', title: 'Ask the policy service', after: ${JSON.stringify(after)}, async run() { throw new Error('policy service unreachable'); } }],
}));`;

    it('before delete: exit 1 naming the plugin and step, nothing deleted, no GC and no restart', async () => {
      await pushImage(registry.url, 'api/throw-early', ['a'], makeImage({ seed: 'api/throw-early/a' }));
      await pushImage(registry.url, 'api/throw-early', ['b'], makeImage({ seed: 'api/throw-early/b' }));
      project(thrower('resolve'), 'failing()', ['api/throw-early:a']);
      const before = snapshotStorage(registry.storageRoot);
      const restarts = registry.restartCount();

      const result = await rc('clean', '--json');

      expect(result.exitCode).toBe(1);
      const report = JSON.parse(result.stdout);
      expect(report.error).toEqual({ message: 'plugin policy, step ask-policy failed: policy service unreachable', exitCode: 1 });
      expect(report.images).toEqual([expect.objectContaining({ image: `${registry.host}/api/throw-early:a`, status: 'not-reached' })]);
      expect(report.skipped).toMatchObject({ delete: 'not run: an earlier step failed', gc: 'not run: an earlier step failed' });
      expect(snapshotStorage(registry.storageRoot)).toEqual(before);
      expect(registry.restartCount()).toBe(restarts);
      expect(await listTags(registry.url, 'api/throw-early')).toEqual(['a', 'b']);
    });

    it('a RunError from the package keeps its message without "failed" and its hint: the plugin gets the core’s own error class', async () => {
      await pushImage(registry.url, 'api/throw-hint', ['a'], makeImage({ seed: 'api/throw-hint/a' }));
      project(
        `import { RunError } from 'registry-clean';
const refusing = definePlugin(() => ({
  name: 'policy',
  steps: [{ id: 'ask-policy', title: 'Ask the policy service', after: 'resolve', async run() { throw new RunError('change freeze until Monday', { hint: 'ask #releases for an exception' }); } }],
}));`,
        'refusing()',
        ['api/throw-hint:a'],
      );

      const result = await rc('clean', '--json');

      expect(result.exitCode).toBe(1);
      expect(JSON.parse(result.stdout).error).toEqual({
        message: 'plugin policy, step ask-policy: change freeze until Monday',
        hint: 'ask #releases for an exception',
        exitCode: 1,
      });
      expect(await listTags(registry.url, 'api/throw-hint')).toEqual(['a']);
    });

    it('after delete: the deletion stands, but GC does not start and the registry is not restarted half-way', async () => {
      await pushImage(registry.url, 'api/throw-late', ['a'], makeImage({ seed: 'api/throw-late/a' }));
      await pushImage(registry.url, 'api/throw-late', ['b'], makeImage({ seed: 'api/throw-late/b' }));
      project(thrower('delete'), 'failing()', ['api/throw-late:a']);
      const restarts = registry.restartCount();

      const result = await rc('clean', '--json');

      expect(result.exitCode).toBe(1);
      const report = JSON.parse(result.stdout);
      expect(report.error.message).toBe('plugin policy, step ask-policy failed: policy service unreachable');
      expect(report.images[0]).toMatchObject({ status: 'deleted' });
      expect(report.gc).toEqual([]);
      expect(report.skipped).toMatchObject({ gc: 'not run: an earlier step failed' });
      expect(registry.restartCount()).toBe(restarts);
      expect(await listTags(registry.url, 'api/throw-late')).toEqual(['b']);
      await pullImage(registry.url, 'api/throw-late', 'b');
    });

    it('after garbage collection: the registry is still restarted', async () => {
      await pushImage(registry.url, 'api/throw-gc', ['a'], makeImage({ seed: 'api/throw-gc/a' }));
      await pushImage(registry.url, 'api/throw-gc', ['b'], makeImage({ seed: 'api/throw-gc/b' }));
      project(thrower('gc'), 'failing()', ['api/throw-gc:a']);
      const restarts = registry.restartCount();

      const result = await rc('clean', '--json');

      expect(result.exitCode).toBe(1);
      const report = JSON.parse(result.stdout);
      expect(report.error.message).toBe('plugin policy, step ask-policy failed: policy service unreachable');
      expect(report.gc[0]).toMatchObject({ status: 'collected' });
      expect(report.restart[0]).toMatchObject({ status: 'restarted' });
      expect(registry.restartCount()).toBe(restarts + 1);
      await pullImage(registry.url, 'api/throw-gc', 'b');
    });
  });

  describe('config mistakes are refused with exit 2 before anything is touched', () => {
    let kept: string;

    beforeAll(async () => {
      kept = await pushImage(registry.url, 'api/untouched', ['x'], makeImage({ seed: 'api/untouched/x' }));
    });

    /** rc clean and rc plugins both refuse the config with exit 2 and this message; the listed image stays. */
    const expectRefused = async (...messages: string[]) => {
      for (const command of ['clean', 'plugins']) {
        const result = await rc(command);
        expect(result.exitCode, `rc ${command}: ${result.stderr}`).toBe(2);
        for (const message of messages) expect(result.stderr).toContain(message);
      }
      expect(await manifestDigest(registry.url, 'api/untouched', 'x')).toBe(kept);
    };

    it('two plugins defining the same step id, naming both plugins', async () => {
      project(
        `
const notify = (name: string) => definePlugin(() => ({ name, steps: [{ id: 'notify', title: 'Notify ' + name, async run() {} }] }));
const alpha = notify('alpha');
const beta = notify('beta');`,
        'alpha(), beta()',
        ['api/untouched:x'],
      );
      await expectRefused('step id "notify" is defined by both plugin alpha and plugin beta');
    });

    it('a plugin defining a storage backend id that already exists, naming both plugins', async () => {
      project(
        `
const schema = { '~standard': { version: 1 as const, vendor: 'test', validate: (value: unknown) => ({ value }) } };
const myFs = definePlugin(() => ({
  name: 'my-fs',
  backends: [{ id: 'filesystem', summary: 'another filesystem', options: schema, create: () => { throw new Error('never created'); } }],
}));`,
        'myFs()',
        ['api/untouched:x'],
      );
      await expectRefused('storage backend "filesystem" is defined by both plugin registry-clean and plugin my-fs');
    });

    it('a plugin module that does not exist, saying where rc looked', async () => {
      project('', "'./plugins/does-not-exist.ts'", ['api/untouched:x']);
      await expectRefused('plugins[0]: cannot load plugin "./plugins/does-not-exist.ts"', 'check the path (relative to the config file) or install the package');
    });

    it('a plugin package that is not installed', async () => {
      project('', "['rc-plugin-not-installed', { level: 1 }]", ['api/untouched:x']);
      await expectRefused('cannot load plugin "rc-plugin-not-installed"');
    });

    it('a module whose default export is not a plugin', async () => {
      project('', "'./plugins/not-a-plugin.mjs'", ['api/untouched:x']);
      workspace.write('plugins/not-a-plugin.mjs', 'export default { steps: [] };\n');
      await expectRefused('("./plugins/not-a-plugin.mjs"): not a plugin (expected an object with a "name", as definePlugin returns)');
    });

    it('a step placed after a step no plugin defines, listing the known steps', async () => {
      project(
        `const typo = definePlugin(() => ({ name: 'typo', steps: [{ id: 'check', title: 'Check', after: 'deleet', async run() {} }] }));`,
        'typo()',
        ['api/untouched:x'],
      );
      await expectRefused('plugin typo: step "check" is placed after "deleet", which no plugin defines', `known steps: ${coreSteps.join(', ')}`);
    });

    it('a plugin factory that rejects its options, naming the config entry', async () => {
      // A plugin can only reject bad options by throwing from its factory: that is a config mistake like any other.
      project('', "['./plugins/strict.mjs', { colour: 'blue' }]", ['api/untouched:x']);
      workspace.write(
        'plugins/strict.mjs',
        "export default (options) => { if (!options?.url) throw new Error('the \"url\" option is required'); return { name: 'strict' }; };\n",
      );
      await expectRefused('plugins[0]', 'the "url" option is required');
    });
  });

  describe('a plugin cannot delete what is not listed', () => {
    it('a deletion a plugin pushes into ctx.plan is ignored: the unlisted tags survive', async () => {
      await pushImage(registry.url, 'api/planned', ['listed'], makeImage({ seed: 'api/planned/listed' }));
      const sameRepo = await pushImage(registry.url, 'api/planned', ['bystander'], makeImage({ seed: 'api/planned/bystander' }));
      const otherRepo = await pushImage(registry.url, 'api/victim', ['keep'], makeImage({ seed: 'api/victim/keep' }));
      project(
        `
const sneaky = definePlugin(() => ({
  name: 'sneaky',
  steps: [{ id: 'add-deletions', title: 'Add deletions', after: 'resolve', async run(ctx: StepContext) {
    const plan = ctx.plan as DeletionAction[];
    plan.push({ kind: 'delete-manifest', registry: registryHost, repository: 'api/victim', digest: ${JSON.stringify(otherRepo)}, isIndex: false, tags: ['keep'], images: [] });
    plan.push({ kind: 'delete-manifest', registry: registryHost, repository: 'api/planned', digest: ${JSON.stringify(sameRepo)}, isIndex: false, tags: ['bystander'], images: [] });
  } }],
}));`,
        'sneaky()',
        ['api/planned:listed'],
      );

      const result = await rc('clean', '--json');

      const report = JSON.parse(result.stdout);
      expect(report.images).toEqual([expect.objectContaining({ image: `${registry.host}/api/planned:listed`, status: 'deleted' })]);
      expect(report.warnings).toContainEqual(`ignored a deletion of ${registry.host}/api/victim that rc did not plan`);
      expect(await manifestDigest(registry.url, 'api/victim', 'keep')).toBe(otherRepo);
      expect(await manifestDigest(registry.url, 'api/planned', 'bystander')).toBe(sameRepo);
      await pullImage(registry.url, 'api/victim', 'keep');
      await pullImage(registry.url, 'api/planned', 'bystander');
    });

    it('a plugin that rewrites a planned deletion cannot redirect it to an unlisted image', async () => {
      await pushImage(registry.url, 'api/rewrite', ['listed'], makeImage({ seed: 'api/rewrite/listed' }));
      const victim = await pushImage(registry.url, 'api/rewrite', ['bystander'], makeImage({ seed: 'api/rewrite/bystander' }));
      project(
        `
const rewriter = definePlugin(() => ({
  name: 'rewriter',
  steps: [{ id: 'rewrite', title: 'Rewrite the plan', after: 'resolve', async run(ctx: StepContext) {
    let outcome = 'rewritten';
    try {
      const action = ctx.plan[0] as DeletionAction & { digest: string; tags: string[] };
      action.digest = ${JSON.stringify(victim)};
      action.tags = ['bystander'];
    } catch (error) {
      // Refused (a frozen plan) is fine too: the point is what gets deleted.
      outcome = 'refused: ' + (error as Error).message;
    }
    writeFileSync('rewrite-attempt.txt', outcome);
  } }],
}));`,
        'rewriter()',
        ['api/rewrite:listed'],
      );

      const result = await rc('clean', '--json');

      // The step ran and the run went on: the listed image is gone, the bystander is not.
      expect(readFileSync(path.join(workspace.dir, 'rewrite-attempt.txt'), 'utf8')).toBeTruthy();
      expect(JSON.parse(result.stdout).images).toEqual([expect.objectContaining({ image: `${registry.host}/api/rewrite:listed`, status: 'deleted' })]);
      expect(await manifestDigest(registry.url, 'api/rewrite', 'bystander')).toBe(victim);
      await pullImage(registry.url, 'api/rewrite', 'bystander');
    });

    it('a plugin that adds an image to the list fails the run naming it, and the unlisted image survives', async () => {
      await pushImage(registry.url, 'api/added', ['listed'], makeImage({ seed: 'api/added/listed' }));
      const unlisted = await pushImage(registry.url, 'api/added', ['unlisted'], makeImage({ seed: 'api/added/unlisted' }));
      project(
        `
const adder = definePlugin(() => ({
  name: 'adder',
  steps: [{ id: 'add-image', title: 'Add an image', after: 'parse-list', async run(ctx: StepContext) {
    const text = registryHost + '/api/added:unlisted';
    (ctx.images as ImageOutcome[]).push({
      image: text,
      ref: { registry: registryHost, repository: 'api/added', tag: 'unlisted', text },
      source: { file: 'plugin', line: 1 },
      status: 'pending',
    });
  } }],
}));`,
        'adder()',
        ['api/added:listed'],
      );

      const result = await rc('clean', '--json');

      expect(result.exitCode).toBe(1);
      expect(JSON.parse(result.stdout).error.message).toMatch(/^plugin adder, step add-image failed: /);
      expect(await manifestDigest(registry.url, 'api/added', 'unlisted')).toBe(unlisted);
      expect(await listTags(registry.url, 'api/added')).toEqual(['listed', 'unlisted']);
    });
  });

  describe('veto', () => {
    const lateVeto = `
const late = definePlugin(() => ({
  name: 'late',
  steps: [{ id: 'late-veto', title: 'Keep it after all', after: 'delete', async run(ctx: StepContext) {
    ctx.veto(registryHost + '/api/late:a', 'too late');
  } }],
}));`;

    it('a veto once deletion has started fails the step with a message saying to place it before delete', async () => {
      await pushImage(registry.url, 'api/late', ['a'], makeImage({ seed: 'api/late/a' }));
      await pushImage(registry.url, 'api/late', ['b'], makeImage({ seed: 'api/late/b' }));
      project(lateVeto, 'late()', ['api/late:a']);

      const result = await rc('clean');

      expect(result.exitCode).toBe(1);
      expect(result.stderr).toContain(
        `plugin late, step late-veto: cannot keep ${registry.host}/api/late:a: deletion has already started (place the step before "delete")`,
      );
      // Nothing half-done: no GC started, so no restart was needed.
      expect(result.stdout).toMatch(/gc\s+skipped: not run: an earlier step failed/);
    });

    it('a dry run refuses a veto placed after delete too, as the real run would', async () => {
      await pushImage(registry.url, 'api/late', ['a'], makeImage({ seed: 'api/late/a' }));
      project(lateVeto, 'late()', ['api/late:a']);

      const result = await rc('clean', '--dry-run');

      expect(result.exitCode).toBe(1);
      expect(result.stderr).toContain('deletion has already started (place the step before "delete")');
    });
  });

  it('plugins placed after the same step run in the order the config lists them', async () => {
    project(
      `
const tail = (name: string) => definePlugin(() => ({ name, steps: [{ id: name + '-step', title: name, after: 'restart', always: true, async run() {} }] }));
const first = tail('first');
const second = tail('second');
const head = (name: string) => definePlugin(() => ({ name, steps: [{ id: name + '-step', title: name, before: 'delete', async run() {} }] }));
const third = head('third');
const fourth = head('fourth');`,
      'first(), second(), third(), fourth()',
      ['api/untouched:x'],
    );
    const steps = await listed();
    expect(steps.map((s) => `${s.id} [${s.plugin}]`)).toEqual([
      'parse-list [registry-clean]',
      'verify [registry-clean]',
      'resolve [registry-clean]',
      'third-step [third]',
      'fourth-step [fourth]',
      'delete [registry-clean]',
      'prune [registry-clean]',
      'gc [registry-clean]',
      'restart [registry-clean]',
      'first-step [first]',
      'second-step [second]',
    ]);
    expect(steps.at(-1)).toMatchObject({ placed: 'after restart', always: true });
  });
});
