import { isIndexMediaType } from '../registry/media-types.js';
import type { DeletionAction, DeleteManifestAction } from './deletion-action.js';
import { settle, type ImageOutcome } from './image-outcome.js';
import type { RepositorySnapshot } from './repository-snapshot.js';

/** How this registry can remove a single tag, best first. */
export interface TagRemoval {
  /** The registry deletes tags by name (3.x). */
  tagDelete: boolean;
  /** A storage backend can remove the tag's directory. */
  storage: boolean;
}

/** Every action the planner made: the delete step carries out these and no others. */
const plannedByCore = new WeakSet<DeletionAction>();

export function isPlannedByCore(action: DeletionAction): boolean {
  return plannedByCore.has(action);
}

export interface RepositoryPlan {
  actions: DeletionAction[];
  warnings: string[];
}

/**
 * Decides how to delete the listed images of one repository so that exactly they go and
 * nothing else: a DELETE by digest only when every tag on that digest is listed and no kept
 * multi-arch index uses it as a child; otherwise the single tag is removed on its own.
 * Images it cannot plan are settled as failed or absent with the reason. Pure: no I/O.
 *
 * `images` are this repository's listed images; only those still pending are planned.
 */
export function planRepository(snapshot: RepositorySnapshot, images: ImageOutcome[], removal: TagRemoval): RepositoryPlan {
  const warnings: string[] = [];
  const pending = images.filter((image) => image.status === 'pending');
  if (snapshot.tags === null) {
    for (const image of pending) settle(image, 'absent', `repository ${snapshot.name} does not exist`);
    return { actions: [], warnings };
  }
  const tagDigest = new Map<string, string>();
  for (const [tag, head] of snapshot.heads) tagDigest.set(tag, head.digest);
  const tagsOn = groupTagsByDigest(tagDigest);
  const indexDigests = new Set([...snapshot.heads.values()].filter((h) => isIndexMediaType(h.mediaType)).map((h) => h.digest));

  const listed = new Set(snapshot.tags);
  for (const image of pending) {
    const tag = image.ref.tag;
    if (tag === undefined || tagDigest.has(tag)) continue;
    // Listed but resolving to nothing: a push cut off, or a manifest lost from storage. Nothing to delete.
    settle(image, 'absent', listed.has(tag) ? `tag ${tag} names no manifest the registry can serve (a broken tag); left as it is` : `tag ${tag} does not exist`);
  }
  const byDigest = pending.filter((i) => i.status === 'pending' && i.ref.digest !== undefined);
  const byTag = pending.filter((i) => i.status === 'pending' && i.ref.tag !== undefined);

  // Which tags stay: neither listed nor on a digest that is deleted outright. A digest listed
  // for deletion that a kept index uses is refused, which keeps its tags — and so possibly
  // another index — so refusals are settled to a fixpoint before anything is planned.
  const listedTags = new Set(byTag.map((i) => i.ref.tag as string));
  const going = new Set(byDigest.map((i) => i.ref.digest as string));
  const isKept = (tag: string) => !listedTags.has(tag) && !going.has(tagDigest.get(tag) ?? '');
  const keptIndexOf = (child: string): string | undefined =>
    (snapshot.indexChildren.get(child) ?? []).find((index) => (tagsOn.get(index) ?? []).some(isKept));
  for (let changed = true; changed; ) {
    changed = false;
    for (const digest of going) {
      if (keptIndexOf(digest)) {
        going.delete(digest);
        changed = true;
      }
    }
  }
  const describeIndex = (index: string) => `multi-arch index ${(tagsOn.get(index) ?? []).filter(isKept).join(', ') || index}`;

  const manifestActions = new Map<string, DeleteManifestAction>();
  const actions: DeletionAction[] = [];
  const deleteManifest = (digest: string): DeleteManifestAction => {
    let action = manifestActions.get(digest);
    if (!action) {
      const tags = tagsOn.get(digest) ?? [];
      action = { kind: 'delete-manifest', registry: snapshot.registry, repository: snapshot.name, digest, isIndex: indexDigests.has(digest), tags, images: [] };
      manifestActions.set(digest, action);
      actions.push(action);
    }
    return action;
  };

  for (const image of byDigest) {
    const digest = image.ref.digest as string;
    if (!going.has(digest)) {
      const parent = keptIndexOf(digest) as string;
      settle(image, 'failed', `${digest} is a platform image of the ${describeIndex(parent)}, which is kept; deleting it would break that image (delete the index's tag instead)`);
      continue;
    }
    image.digest = digest;
    image.method = 'manifest-delete';
    image.removedTags = tagsOn.get(digest) ?? [];
    deleteManifest(digest).images.push(image);
  }

  const listedOn = new Map<string, ImageOutcome[]>();
  for (const image of byTag) {
    const digest = tagDigest.get(image.ref.tag as string) as string;
    image.digest = digest;
    const group = listedOn.get(digest);
    if (group) group.push(image);
    else listedOn.set(digest, [image]);
  }

  for (const [digest, group] of listedOn) {
    const keptTags = (tagsOn.get(digest) ?? []).filter(isKept);
    const parent = keptIndexOf(digest);
    // Also listed by digest, or every tag on it listed and no kept index uses it: one DELETE removes them all.
    if (manifestActions.has(digest) || (keptTags.length === 0 && !parent)) {
      for (const image of group) {
        image.method = 'manifest-delete';
        deleteManifest(digest).images.push(image);
      }
      continue;
    }
    const method = removal.tagDelete ? 'tag-delete' : removal.storage ? 'storage-tag-remove' : 'throwaway-manifest';
    for (const image of group) {
      image.method = method;
      image.keptTags = parent ? [...keptTags, `(${describeIndex(parent)} uses this manifest)`] : keptTags;
      actions.push({ kind: 'remove-tag', registry: snapshot.registry, repository: snapshot.name, tag: image.ref.tag as string, digest, method, keptTags, image });
    }
  }

  for (const action of actions) {
    // Frozen: what was planned is what gets carried out.
    if (action.kind === 'delete-manifest') Object.freeze(action.tags);
    else Object.freeze(action.keptTags);
    plannedByCore.add(Object.freeze(action));
  }
  for (const action of manifestActions.values()) {
    const orphans = referrerTags(action.digest, tagDigest).filter(isKept);
    if (orphans.length > 0) {
      warnings.push(
        `${snapshot.registry}/${snapshot.name}: tags ${orphans.join(', ')} hold signatures or attestations of ${action.digest}, which is deleted; list them too to remove them`,
      );
    }
  }
  return { actions, warnings };
}

/** Forgets what a previous plan decided, so the images can be planned again on a fresher snapshot. */
export function resetPlanning(images: ImageOutcome[]): void {
  for (const image of images) {
    if (image.status !== 'pending') continue;
    delete image.method;
    delete image.keptTags;
    delete image.removedTags;
    if (image.ref.tag !== undefined) delete image.digest;
  }
}

function groupTagsByDigest(tagDigest: Map<string, string>): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  for (const [tag, digest] of tagDigest) {
    const group = groups.get(digest);
    if (group) group.push(tag);
    else groups.set(digest, [tag]);
  }
  return groups;
}

/** cosign-style referrer tags of a digest: `sha256-<hex>`, `sha256-<hex>.sig`, `.att`, `.sbom`. */
function referrerTags(digest: string, tagDigest: Map<string, string>): string[] {
  const prefix = digest.replace(':', '-');
  return [...tagDigest.keys()].filter((tag) => tag === prefix || tag.startsWith(`${prefix}.`));
}
