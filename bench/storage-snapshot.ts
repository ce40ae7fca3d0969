import { execFile } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { RegistryServer } from '../testkit/registry-server.js';

const exec = promisify(execFile);

/**
 * A copy of the filled registry's storage, so that every destructive measurement (rc clean,
 * the minimal client's deletion, skopeo, the seed script) starts from byte-identical data.
 * A real copy (`cp -a`), not hard links: the registry writes some files in place.
 */
export class StorageSnapshot {
  private constructor(
    private readonly registry: RegistryServer,
    readonly dir: string,
  ) {}

  /** Copies the registry's storage into `dir` (an empty directory the caller removes). */
  static async take(registry: RegistryServer, dir: string): Promise<StorageSnapshot> {
    await exec('cp', ['-a', `${registry.storageRoot}/.`, dir], { maxBuffer: 1 << 20 });
    return new StorageSnapshot(registry, dir);
  }

  /** Stops the registry, puts the snapshot back, starts it again and waits until it answers (a fresh in-memory cache). */
  async restore(): Promise<void> {
    const [stop, ...stopArgs] = this.registry.stopCommand;
    await exec(stop!, stopArgs);
    for (const name of readdirSync(this.registry.storageRoot)) rmSync(path.join(this.registry.storageRoot, name), { recursive: true, force: true });
    await exec('cp', ['-a', `${this.dir}/.`, this.registry.storageRoot], { maxBuffer: 1 << 20 });
    const [start, ...startArgs] = this.registry.startCommand;
    await exec(start!, startArgs);
    await this.registry.waitUntilReady(60_000);
  }
}
