import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { CliResult } from '../support/run-cli.js';
import type { Workspace } from '../support/workspace.js';

/** What bin/run.cjs loads: the last file `npm run build` writes before the manifest. */
const bundleEntry = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../dist/bundle/rc.cjs');

/** One `rc` run, kept so a file's last test can search everything `rc` printed. */
export interface RecordedRun extends CliResult {
  args: string[];
}

/**
 * Runs `rc` through the built binary with `env` and records the run. Other engineers may be
 * rebuilding `dist/` meanwhile: a run that could not even load its command (nothing ran) is
 * repeated once the build is back.
 */
export async function rcRecorded(runs: RecordedRun[], workspace: Workspace, env: Record<string, string>, ...args: string[]): Promise<CliResult> {
  for (let attempt = 1; ; attempt++) {
    const result = await workspace.rcWith(env, ...args);
    const output = `${result.stdout}\n${result.stderr}`;
    const notLoaded = /command \S+ not found|Cannot find module|ERR_MODULE_NOT_FOUND/.test(output);
    runs.push({ ...result, args });
    if (!notLoaded || attempt >= 6) return result;
    runs.pop();
    for (let wait = 0; wait < 60 && !existsSync(bundleEntry); wait++) await sleep(500);
    await sleep(1_000);
  }
}

/**
 * An environment where `rc` finds no credentials but those the test puts there: HOME and
 * DOCKER_CONFIG point at empty directories, podman's auth files are unset.
 */
export function isolatedEnv(workspace: Workspace, extra: Record<string, string> = {}): Record<string, string> {
  const home = path.join(workspace.dir, 'home');
  const dockerConfig = path.join(workspace.dir, 'docker-config-empty');
  mkdirSync(home, { recursive: true });
  mkdirSync(dockerConfig, { recursive: true });
  return { HOME: home, DOCKER_CONFIG: dockerConfig, REGISTRY_AUTH_FILE: '', XDG_RUNTIME_DIR: '', ...extra };
}

/** Writes a Docker `config.json` in a new directory of the workspace; returns the directory (for DOCKER_CONFIG). */
export function writeDockerConfig(workspace: Workspace, name: string, config: unknown): string {
  const dir = path.join(workspace.dir, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'config.json'), typeof config === 'string' ? config : JSON.stringify(config, null, 2));
  return dir;
}

export const basicAuth = (username: string, password: string): string => Buffer.from(`${username}:${password}`).toString('base64');

/**
 * Every secret, and for each JWT also its signature alone (a token cut short must not leak
 * either), that appears in any run's stdout or stderr: `[]` when nothing leaked.
 */
export function leakedSecrets(runs: readonly RecordedRun[], secrets: readonly string[]): string[] {
  const needles = new Set<string>();
  for (const secret of secrets) {
    if (secret.length < 8) throw new Error(`secret too short to search for reliably: ${secret.length} characters`);
    needles.add(secret);
    const parts = secret.split('.');
    if (parts.length === 3 && parts[2]!.length >= 16) needles.add(parts[2]!);
  }
  const found: string[] = [];
  for (const run of runs) {
    for (const needle of needles) {
      for (const [stream, text] of [['stdout', run.stdout], ['stderr', run.stderr]] as const) {
        if (text.includes(needle)) found.push(`rc ${run.args.join(' ')}: ${stream} contains a secret (${needle.slice(0, 6)}…)`);
      }
    }
  }
  return found;
}

/** The line of `Hint:` output, or '' when rc gave none. */
export function hintOf(stderr: string): string {
  return /^Hint: (.*)$/m.exec(stderr)?.[1] ?? '';
}
