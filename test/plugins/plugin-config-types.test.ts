import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const tsc = path.join(projectRoot, 'node_modules/typescript/bin/tsc');

/**
 * What a plugin author's editor says about a `registry-clean.config.ts`: the config is
 * type-checked by `tsc` (strict, NodeNext) against the types the installed package publishes
 * (node_modules/registry-clean is this built project), as an IDE would.
 */
describe('a registry-clean.config.ts with plugins, type-checked against the published types', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  const typeCheck = (config: string): Promise<{ code: number; output: string }> => {
    dir = mkdtempSync(path.join(tmpdir(), 'rc-plugin-types-'));
    mkdirSync(path.join(dir, 'node_modules'));
    symlinkSync(projectRoot, path.join(dir, 'node_modules', 'registry-clean'), 'dir');
    writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'ops', private: true, type: 'module' }));
    writeFileSync(
      path.join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          target: 'ES2022',
          noEmit: true,
          skipLibCheck: true,
          types: ['node'],
          typeRoots: [path.join(projectRoot, 'node_modules/@types')],
        },
        files: ['registry-clean.config.ts'],
      }),
    );
    writeFileSync(path.join(dir, 'registry-clean.config.ts'), config);
    return new Promise((resolve) => {
      execFile(process.execPath, [tsc, '-p', dir!], { cwd: dir }, (error, stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, output: stdout + stderr }),
      );
    });
  };

  const withPlugins = (plugins: string) =>
    [
      "import { defineConfig, definePlugin, defineStep, type StepContext } from 'registry-clean';",
      '',
      'const audit = definePlugin((options: { label: string }) => ({',
      "  name: 'audit',",
      "  steps: [defineStep({ id: 'audit', title: options.label, after: 'resolve', async run(ctx: StepContext) { void ctx.plan.length; } })],",
      '}));',
      '',
      `export default defineConfig({ storage: { backend: 'filesystem', root: '/data/registry' }, plugins: [${plugins}] });`,
      '',
    ].join('\n');

  it('(test guard) a config with a mistake in it does not type-check', async () => {
    const result = await typeCheck(withPlugins("audit({ label: 42 })"));
    expect(result.code).not.toBe(0);
    expect(result.output).toContain("Type 'number' is not assignable to type 'string'");
  });

  it('lists module specifiers and [specifier, options] without a type error', async () => {
    const result = await typeCheck(withPlugins("'./plugins/audit.ts', ['registry-clean-plugin-max-deletions', { max: 50 }]"));
    expect(result.output).toBe('');
    expect(result.code).toBe(0);
  });

  it('lists a plugin made with definePlugin without a type error', async () => {
    const result = await typeCheck(withPlugins("audit({ label: 'Record the plan' })"));
    expect(result.output).toBe('');
    expect(result.code).toBe(0);
  });
});
