import type { DeletionAction, DeleteManifestAction, RemoveTagAction } from './deletion-action.js';
import type { ImageOutcome } from './image-outcome.js';
import type { RepositorySnapshot } from './repository-snapshot.js';

/** How this registry can remove a single tag, best first. */
export interface TagRemoval {
  /** The registry deletes tags by name (3.x). */
  tagDelete: boolean;
  /** A storage backend can remove the tag's directory. */
  storage: boolean;
}

export interface RepositoryPlan {
  actions: DeletionAction[];
  warnings: string[];
}

/**
 * Decides how to delete the listed images of one repository so that exactly they go and
 * nothing else: a DELETE by digest only when every tag on that digest is listed and no kept
 * multi-arch index uses it as a child; otherwise the single tag is removed on its own.
 * Images it cannot plan are marked failed or absent with the reason.
 *
 * `images` are this repository's listed images still pending; those listed by digest carry
 * the digest they resolved to, or are already marked absent.
 */
export function planRepository(snapshot: RepositorySnapshot, images: ImageOutcome[], removal: TagRemoval): RepositoryPlan {
  const warnings: string[] = [];
  const pending = images.filter((image) => image.status === 'pending');
  if (snapshot.tags === null) {
    for (const image of pending) markAbsent(image, `repository ${snapshot.name} does not exist`);
    return { actions: [], warnings };
  }
  const tagDigest = new Map([...snapshot.tags].map(([tag, head]) => [tag, head.digest]));
  const tagsOn = groupTagsByDigest(tagDigest);

  for (const image of pending) {
    if (image.ref.tag !== undefined && !tagDigest.has(image.ref.tag)) markAbsent(image, `tag ${image.ref.tag} does not exist`);
  }
  const byDigest = pending.filter((i) => i.status === 'pending' && i.ref.digest !== undefined);
  const byTag = pending.filter((i) => i.status === 'pending' && i.ref.tag !== undefined);

  // Which tags stay: neither listed nor on a digest that is deleted outright.
  const goingByDigest = new Set(byDigest.map((i) => i.ref.digest as string));
  const listedTags = new Set(byTag.map((i) => i.ref.tag as string));
  const isKept = (tag: string) => !listedTags.has(tag) && !goingByDigest.has(tagDigest.get(tag) ?? '');
  const keptIndexOf = (child: string): string | undefined =>
    (snapshot.indexChildren.get(child) ?? []).find((index) => (tagsOn.get(index) ?? []).some(isKept));
  const describeIndex = (index: string) => `multi-arch index ${(tagsOn.get(index) ?? []).filter(isKept).join(', ') || index}`;

  const manifestActions = new Map<string, DeleteManifestAction>();
  const actions: DeletionAction[] = [];
  const deleteManifest = (digest: string): DeleteManifestAction => {
    let action = manifestActions.get(digest);
    if (!action) {
      const tags = tagsOn.get(digest) ?? [];
      action = { kind: 'delete-manifest', registry: snapshot.registry, repository: snapshot.name, digest, tags, images: [] };
      manifestActions.set(digest, action);
      actions.push(action);
    }
    return action;
  };

  for (const image of byDigest) {
    const digest = image.ref.digest as string;
    const parent = keptIndexOf(digest);
    if (parent) {
      markFailed(image, `${digest} is a platform image of the ${describeIndex(parent)}, which is kept; deleting it would break that image (delete the index's tag instead)`);
      goingByDigest.delete(digest);
      continue;
    }
    image.digest = digest;
    image.method = 'manifest-delete';
    image.removedTags = tagsOn.get(digest) ?? [];
    deleteManifest(digest).images.push(image);
  }

  const tagsByDigest = new Map<string, ImageOutcome[]>();
  for (const image of byTag) {
    const digest = tagDigest.get(image.ref.tag as string) as string;
    image.digest = digest;
    const group = tagsByDigest.get(digest) ?? [];
    group.push(image);
    tagsByDigest.set(digest, group);
  }

  for (const [digest, group] of tagsByDigest) {
    if (manifestActions.has(digest)) {
      // The same manifest is also listed by digest: that one DELETE removes these tags too.
      for (const image of group) {
        image.method = 'manifest-delete';
        manifestActions.get(digest)?.images.push(image);
      }
      continue;
    }
    const keptTags = (tagsOn.get(digest) ?? []).filter(isKept);
    const parent = keptIndexOf(digest);
    if (keptTags.length === 0 && !parent) {
      for (const image of group) {
        image.method = 'manifest-delete';
        deleteManifest(digest).images.push(image);
      }
      continue;
    }
    for (const image of group) {
      const method = removal.tagDelete ? 'tag-delete' : removal.storage ? 'storage-tag-remove' : 'throwaway-manifest';
      image.method = method;
      image.keptTags = parent ? [...keptTags, `(${describeIndex(parent)} uses this manifest)`] : keptTags;
      const action: RemoveTagAction = {
        kind: 'remove-tag',
        registry: snapshot.registry,
        repository: snapshot.name,
        tag: image.ref.tag as string,
        digest,
        method,
        keptTags,
        image,
      };
      actions.push(action);
    }
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

function groupTagsByDigest(tagDigest: Map<string, string>): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  for (const [tag, digest] of tagDigest) groups.set(digest, [...(groups.get(digest) ?? []), tag]);
  return groups;
}

/** cosign-style referrer tags of a digest: `sha256-<hex>`, `sha256-<hex>.sig`, `.att`, `.sbom`. */
function referrerTags(digest: string, tagDigest: Map<string, string>): string[] {
  const prefix = digest.replace(':', '-');
  return [...tagDigest.keys()].filter((tag) => tag === prefix || tag.startsWith(`${prefix}.`));
}

function markAbsent(image: ImageOutcome, reason: string): void {
  image.status = 'absent';
  image.reason = reason;
}

function markFailed(image: ImageOutcome, reason: string): void {
  image.status = 'failed';
  image.reason = reason;
}
