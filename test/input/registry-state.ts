import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { catalog, listTags } from '../../testkit/pull.js';
import type { RegistryServer } from '../../testkit/registry-server.js';
import { SEED_TAGS_BEFORE } from '../../testkit/seed-images.js';
import { snapshotStorage } from '../support/storage-snapshot.js';

/** What a user could see change on a registry: its storage bytes, its catalog and tags, its restarts. */
export interface RegistryState {
  storage: Map<string, string>;
  catalog: string[];
  tags: Record<string, string[] | null>;
  restarts: number;
}

export async function registryState(registry: RegistryServer): Promise<RegistryState> {
  const tags: Record<string, string[] | null> = {};
  for (const repository of Object.keys(SEED_TAGS_BEFORE)) tags[repository] = await listTags(registry.url, repository);
  return {
    storage: snapshotStorage(registry.storageRoot),
    catalog: (await catalog(registry.url)).sort(),
    tags,
    restarts: registry.restartCount(),
  };
}

/** The registry is exactly as `before`: byte-identical storage, same catalog and tags, no restart. */
export async function expectUntouched(registry: RegistryServer, before: RegistryState): Promise<void> {
  const after = await registryState(registry);
  expect(after.storage).toEqual(before.storage);
  expect(after.catalog).toEqual(before.catalog);
  expect(after.tags).toEqual(before.tags);
  expect(after.restarts).toBe(before.restarts);
}

/** The seed registry as pushed: every seed tag present (guards against an earlier test having deleted one). */
export async function expectSeedIntact(registry: RegistryServer): Promise<void> {
  const state = await registryState(registry);
  expect(state.tags).toEqual(Object.fromEntries(Object.entries(SEED_TAGS_BEFORE).map(([repo, tags]) => [repo, [...tags]])));
}

/**
 * Makes `dir` a project root (a package.json without a `registry-clean` key), so the config
 * search stops there instead of climbing into the shared temporary directory.
 */
export function markProjectRoot(dir: string): void {
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'rc-test-workspace', private: true }, null, 2));
}

/** Lines of `text` that start (after indentation) with `prefix`. */
export function linesStartingWith(text: string, prefix: string): string[] {
  return text.split('\n').map((line) => line.trim()).filter((line) => line.startsWith(prefix));
}
