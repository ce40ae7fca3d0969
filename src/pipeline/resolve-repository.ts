import { RunError } from '../errors/run-error.js';
import type { RepositorySnapshot, StorageView } from '../plan/repository-snapshot.js';
import type { ManifestHead, ManifestJson } from '../registry/client.js';
import { manifestFromBytes } from '../registry/manifest-from-bytes.js';
import { isIndexMediaType } from '../registry/media-types.js';
import type { RegistryStorage } from '../storage/registry-storage.js';
import { mapLimit } from '../util/map-limit.js';
import type { RegistryTarget } from './registry-target.js';

export interface ResolveOptions {
  concurrency: number;
  signal?: AbortSignal;
  /** Heads resolved earlier: through the API only tags not in it are asked for again; from storage, their manifests are not read again. */
  known?: Map<string, ManifestHead>;
}

/**
 * Resolves every tag of a repository to its manifest — listed or not, because a sibling tag on
 * the same digest must survive — and reads multi-arch indexes to learn their children.
 *
 * Where the storage is proven to be the registry's own (an upload showed up in it), the tags'
 * links and manifests are read from it: the same files the registry reads to answer, without a
 * request per tag. Otherwise each tag is asked for with a HEAD, and any configured storage must
 * agree with every answer. Either way API and storage must agree on the tags, or nothing is changed.
 */
export async function resolveRepository(target: RegistryTarget, snapshot: RepositorySnapshot, options: ResolveOptions): Promise<void> {
  // Read ahead by the check step for this first resolve only: a later one (the delete step's look again) reads afresh.
  const readAhead = options.known ? undefined : snapshot.stored;
  snapshot.stored = undefined;
  snapshot.heads = new Map();
  snapshot.indexChildren = new Map();
  if (snapshot.tags === null) return;
  if (target.storage && target.storageProven) {
    const view = readAhead ?? (await readStorageView(target.storage, snapshot.name, snapshot.tags, options.known));
    if (view.disagreement) throw mismatch(target, snapshot, view.disagreement);
    snapshot.heads = view.heads;
    snapshot.indexChildren = view.indexChildren;
  } else {
    await resolveThroughApi(target, snapshot, options);
  }
}

/**
 * What the storage says of a repository whose tags the registry listed as `tags`: each tag's
 * manifest, the children of its indexes, and how storage and listing disagree, if they do. It
 * must be read after the listing: a tag pushed in between then shows up as a disagreement.
 * `known` heads that are not indexes are not read again.
 */
export async function readStorageView(storage: RegistryStorage, repository: string, tags: readonly string[], known?: Map<string, ManifestHead>): Promise<StorageView> {
  const view: StorageView = { heads: new Map(), indexChildren: new Map(), disagreement: undefined };
  const stored = await storage.tagDigests(repository);
  // A tag directory without a link (a push cut off) is listed but resolves to nothing: not a disagreement.
  view.disagreement = storageOnly(new Set(tags), stored, tags.length > 0);
  if (view.disagreement) return view;
  const links = stored ?? new Map<string, string>();

  // Manifests read before are not read again, except indexes (their children are needed afresh).
  const reused = new Map<string, ManifestHead>();
  for (const head of known?.values() ?? []) if (!isIndexMediaType(head.mediaType)) reused.set(head.digest, head);
  const digests = [...new Set(tags.flatMap((tag) => links.get(tag) ?? []))];
  const texts = await storage.manifests(repository, digests.filter((digest) => !reused.has(digest)));
  const heads = new Map(reused);
  for (const [digest, text] of texts) {
    if (text === null) continue;
    const { head, json } = manifestFromBytes(digest, text);
    heads.set(digest, head);
    if (isIndexMediaType(head.mediaType)) addChildren(view.indexChildren, digest, json);
  }
  for (const tag of tags) {
    const head = heads.get(links.get(tag) ?? '');
    if (head) view.heads.set(tag, head);
  }
  return view;
}

async function resolveThroughApi(target: RegistryTarget, snapshot: RepositorySnapshot, options: ResolveOptions): Promise<void> {
  const tags = snapshot.tags ?? [];
  const known = options.known ?? new Map<string, ManifestHead>();
  const stored = target.storage ? await target.storage.tagDigests(snapshot.name) : undefined;
  // Asked again: tags not resolved before, and where storage is configured, tags whose link now names another digest.
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
  indexes.forEach((index, i) => addChildren(snapshot.indexChildren, index, manifests[i]?.json));

  if (stored !== undefined) {
    const disagreement = compare(snapshot.heads, new Set(tags), stored);
    if (disagreement) throw mismatch(target, snapshot, disagreement);
  }
}

function addChildren(indexChildren: Map<string, string[]>, index: string, json: ManifestJson | undefined): void {
  for (const child of json?.manifests ?? []) {
    const parents = indexChildren.get(child.digest);
    if (parents) parents.push(index);
    else indexChildren.set(child.digest, [index]);
  }
}

function mismatch(target: RegistryTarget, snapshot: RepositorySnapshot, disagreement: string): RunError {
  return new RunError(
    `the storage of ${snapshot.registry} (${target.storage?.description}) does not match what the registry serves for ${snapshot.name}: ${disagreement}; this repository was left as it was`,
    { hint: "if a push was landing, run rc again; otherwise check that storage.root is the registry's storage root directory" },
  );
}

/**
 * Why API and storage disagree about a repository's tags, or undefined when they agree. A tag
 * listed by the registry that resolves to nothing (a broken tag) is in storage too: that agrees.
 */
function compare(heads: Map<string, ManifestHead>, listed: Set<string>, stored: Map<string, string> | null): string | undefined {
  if (stored !== null) {
    for (const [tag, head] of heads) {
      const digest = stored.get(tag);
      if (digest === undefined) return `tag ${tag} is not in storage`;
      if (digest !== head.digest) return `tag ${tag} is ${head.digest} in the registry but ${digest} in storage`;
    }
  }
  return storageOnly(listed, stored, heads.size > 0);
}

/**
 * What storage has that the registry does not list: a tag (a push landed between the two
 * reads), or the repository missing altogether where the registry has something in it.
 */
function storageOnly(listed: Set<string>, stored: Map<string, string> | null, served: boolean): string | undefined {
  if (stored === null) return served ? 'the repository is not in storage' : undefined;
  for (const tag of stored.keys()) if (!listed.has(tag)) return `tag ${tag} is in storage but not served`;
  return undefined;
}
