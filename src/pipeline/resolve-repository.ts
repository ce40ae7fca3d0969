import { RunError } from '../errors/run-error.js';
import type { RepositorySnapshot } from '../plan/repository-snapshot.js';
import type { ManifestHead } from '../registry/client.js';
import { isIndexMediaType } from '../registry/media-types.js';
import { mapLimit } from '../util/map-limit.js';
import type { RegistryTarget } from './registry-target.js';

/**
 * Resolves every tag of a repository to its manifest — listed or not, because a sibling tag on
 * the same digest must survive — and reads multi-arch indexes to learn their children.
 *
 * `known` holds heads resolved earlier: only tags not in it are asked for again, and where
 * storage is configured, tags whose link now names another digest too (a tag moved meanwhile).
 * Storage and API must agree about every tag, or nothing is changed.
 */
export async function resolveRepository(
  target: RegistryTarget,
  snapshot: RepositorySnapshot,
  options: { concurrency: number; signal?: AbortSignal; known?: Map<string, ManifestHead> },
): Promise<void> {
  const tags = snapshot.tags;
  snapshot.heads = new Map();
  snapshot.indexChildren = new Map();
  if (tags === null) return;
  const known = options.known ?? new Map<string, ManifestHead>();
  const stored = target.storage ? await target.storage.tagDigests(snapshot.name) : undefined;
  const stale = (tag: string) => {
    const head = known.get(tag);
    return !head || (stored !== undefined && stored?.get(tag) !== head.digest);
  };
  const ask = tags.filter(stale);
  const answers = await mapLimit(ask, options.concurrency, (tag) => target.client.headManifest(snapshot.name, tag), options.signal);
  const fresh = new Map<string, ManifestHead | null>();
  ask.forEach((tag, i) => fresh.set(tag, answers[i] ?? null));
  for (const tag of tags) {
    const head = fresh.has(tag) ? fresh.get(tag) : known.get(tag);
    if (head) snapshot.heads.set(tag, head);
  }

  const indexes = [...new Set([...snapshot.heads.values()].filter((h) => isIndexMediaType(h.mediaType)).map((h) => h.digest))];
  const manifests = await mapLimit(indexes, options.concurrency, (index) => target.client.getManifest(snapshot.name, index), options.signal);
  indexes.forEach((index, i) => {
    for (const child of manifests[i]?.json.manifests ?? []) {
      const parents = snapshot.indexChildren.get(child.digest);
      if (parents) parents.push(index);
      else snapshot.indexChildren.set(child.digest, [index]);
    }
  });

  if (target.storage && stored !== undefined) {
    const disagreement = compare(snapshot.heads, stored);
    if (disagreement) {
      throw new RunError(
        `the storage of ${snapshot.registry} (${target.storage.description}) does not match what the registry serves for ${snapshot.name}: ${disagreement}; this repository was left as it was`,
        { hint: "if a push was landing, run rc again; otherwise check that storage.root is the registry's storage root directory" },
      );
    }
  }
}

/** Why API and storage disagree about a repository's tags, or undefined when they agree. */
function compare(api: Map<string, ManifestHead>, stored: Map<string, string> | null): string | undefined {
  if (stored === null) return api.size === 0 ? undefined : 'the repository is not in storage';
  for (const [tag, head] of api) {
    const digest = stored.get(tag);
    if (digest === undefined) return `tag ${tag} is not in storage`;
    if (digest !== head.digest) return `tag ${tag} is ${head.digest} in the registry but ${digest} in storage`;
  }
  for (const tag of stored.keys()) if (!api.has(tag)) return `tag ${tag} is in storage but not served`;
  return undefined;
}
