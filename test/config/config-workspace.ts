import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { RegistryServer } from '../../testkit/registry-server.js';
import { runCli, type CliResult } from '../support/run-cli.js';
import { markProjectRoot } from '../input/registry-state.js';

/**
 * A project directory to run `rc` in: a package.json marks it as the project root (so the
 * config search never climbs into the shared temporary directory); files are written by path.
 */
export interface ConfigWorkspace {
  dir: string;
  /** Writes `relative` (creating directories) and returns its absolute path. */
  write(relative: string, content: string | Buffer): string;
  /** Runs `rc` in `cwd` (relative to the workspace; default its root). */
  rc(args: string[], options?: { cwd?: string; env?: Record<string, string | undefined> }): Promise<CliResult>;
  remove(): void;
}

export function createConfigWorkspace(): ConfigWorkspace {
  const dir = mkdtempSync(path.join(tmpdir(), 'rc-config-'));
  markProjectRoot(dir);
  return {
    dir,
    write(relative, content) {
      const file = path.join(dir, relative);
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, content);
      return file;
    },
    rc(args, options = {}) {
      const cwd = path.join(dir, options.cwd ?? '.');
      mkdirSync(cwd, { recursive: true });
      // NODE_ENV as a user has it (unset), not vitest's "test": under "test" oclif looks for
      // typescript and tries to register tsx/ts-node to run src/ instead of the built dist/.
      return runCli(args, { cwd, env: { NODE_ENV: undefined, ...options.env } });
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** A YAML string scalar, quoted (JSON strings are valid YAML). */
export const q = (value: string): string => JSON.stringify(value);

/** A YAML flow sequence of strings. */
export const seq = (values: readonly string[]): string => `[${values.map(q).join(', ')}]`;

/** The YAML lines of a working operator config for `registry`: filesystem storage, GC and restart commands. */
export function operatorYaml(registry: RegistryServer): string[] {
  return [
    'storage:',
    '  backend: filesystem',
    `  root: ${q(registry.storageRoot)}`,
    'gc:',
    `  command: ${seq(['docker-registry', 'garbage-collect', registry.configPath])}`,
    'restart:',
    `  command: ${seq(registry.restartCommand)}`,
  ];
}

/** 1-based number of the first line of `text` containing `needle` (throws if none, so a test cannot pass vacuously). */
export function lineOf(text: string, needle: string): number {
  const index = text.split('\n').findIndex((line) => line.includes(needle));
  if (index === -1) throw new Error(`test setup: ${JSON.stringify(needle)} is not in the config`);
  return index + 1;
}
