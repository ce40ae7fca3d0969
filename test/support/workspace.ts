import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { RegistryServer } from '../../testkit/registry-server.js';
import { runCli, type CliResult } from './run-cli.js';

export interface Workspace {
  dir: string;
  /** Writes the image list (registry-images-clean.txt) with these lines. */
  writeList(lines: string[], name?: string): string;
  /** Writes registry-clean.config.json. */
  writeConfig(config: unknown): void;
  rc(...args: string[]): Promise<CliResult>;
  /** `rc` with extra environment variables. */
  rcWith(env: Record<string, string | undefined>, ...args: string[]): Promise<CliResult>;
  remove(): void;
}

/** A directory to run `rc` in, as an operator would: a list file and a config beside it. */
export function createWorkspace(): Workspace {
  const dir = mkdtempSync(path.join(tmpdir(), 'rc-workspace-'));
  return {
    dir,
    writeList(lines, name = 'registry-images-clean.txt') {
      const file = path.join(dir, name);
      writeFileSync(file, `${lines.join('\n')}\n`);
      return file;
    },
    writeConfig(config) {
      writeFileSync(path.join(dir, 'registry-clean.config.json'), JSON.stringify(config, null, 2));
    },
    rc: (...args) => runCli(args, { cwd: dir }),
    rcWith: (env, ...args) => runCli(args, { cwd: dir, env }),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** The config an operator of this registry would write: filesystem storage, GC and restart commands. */
export function filesystemConfig(registry: RegistryServer, extra: Record<string, unknown> = {}) {
  return {
    storage: { backend: 'filesystem', root: registry.storageRoot },
    gc: { command: ['docker-registry', 'garbage-collect', registry.configPath] },
    restart: { command: registry.restartCommand },
    ...extra,
  };
}
