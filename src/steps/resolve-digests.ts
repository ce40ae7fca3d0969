import { RunError } from '../errors/run-error.js';
import type { CleanContext } from '../pipeline/context.js';
import { repositoriesOf } from '../pipeline/repositories-of.js';
import type { Step } from '../pipeline/step.js';
import { planRepository } from '../plan/plan-repository.js';
import { repositoryKey, type RepositorySnapshot } from '../plan/repository-snapshot.js';
import type { ManifestHead } from '../registry/client.js';
import { isIndexMediaType } from '../registry/media-types.js';
import { mapLimit } from '../util/map-limit.js';

/**
 * Resolves the digest of every tag in each affected repository — listed or not, because a
 * sibling tag on the same digest must survive — reads multi-arch indexes to learn their
 * children, checks that storage (when configured) agrees with the API, then plans deletion.
 */
export const resolveDigestsStep: Step = {
  id: 'resolve',
  title: 'Resolve digests and plan',
  async run(ctx, io) {
    const groups = repositoriesOf(ctx.images).filter((g) => g.images.some((i) => i.status === 'pending'));
    let done = 0;
    await mapLimit(
      groups,
      Math.max(1, Math.ceil(ctx.options.concurrency / 4)),
      async ({ registry, repository }) => {
        const snapshot = ctx.repositories.get(repositoryKey(registry, repository)) as RepositorySnapshot;
        await snapshotRepository(ctx, snapshot);
        io.progress(++done, groups.length);
      },
      ctx.signal,
    );

    for (const { registry, repository, images } of repositoriesOf(ctx.images)) {
      const target = ctx.registries.get(registry)!;
      const snapshot = ctx.repositories.get(repositoryKey(registry, repository)) as RepositorySnapshot;
      const plan = planRepository(snapshot, images, {
        tagDelete: target.support?.tagDelete ?? false,
        storage: target.storage !== undefined,
      });
      ctx.plan.push(...plan.actions);
      for (const warning of plan.warnings) io.warn(warning);
      // A repository the registry does not know can only be debris in storage: look only where storage is.
      const worthChecking = snapshot.tagList !== null || target.storage !== undefined;
      if (worthChecking && leftWithoutTags(snapshot, plan.actions)) ctx.pruneCandidates.push({ registry, repository });
    }
    const requests = ctx.plan.length;
    io.title(`Resolve digests and plan: ${requests} deletion${requests === 1 ? '' : 's'} planned`);
  },
};

async function snapshotRepository(ctx: CleanContext, snapshot: RepositorySnapshot): Promise<void> {
  const target = ctx.registries.get(snapshot.registry)!;
  const tags = snapshot.tagList;
  if (tags === null) return;
  const heads = await mapLimit(tags, ctx.options.concurrency, (tag) => target.client.headManifest(snapshot.name, tag), ctx.signal);
  const resolved = new Map<string, ManifestHead>();
  tags.forEach((tag, i) => {
    const head = heads[i];
    if (head) resolved.set(tag, head);
  });
  snapshot.tags = resolved;

  const indexes = [...new Set([...resolved.values()].filter((h) => isIndexMediaType(h.mediaType)).map((h) => h.digest))];
  for (const index of indexes) {
    const manifest = await target.client.getManifest(snapshot.name, index);
    for (const child of manifest?.json.manifests ?? []) {
      snapshot.indexChildren.set(child.digest, [...(snapshot.indexChildren.get(child.digest) ?? []), index]);
    }
  }

  if (target.storage) {
    const stored = await target.storage.tagDigests(snapshot.name);
    const disagreement = compare(resolved, stored);
    if (disagreement) {
      throw new RunError(
        `the storage of ${snapshot.registry} (${target.storage.backend.description}) does not match what the registry serves for ${snapshot.name}: ${disagreement}; nothing was changed`,
        {
          hint: 'check that storage.root is the registry\'s storage root directory (its rootdirectory, e.g. /var/lib/registry in the container); if a push was landing, run rc again',
        },
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

/** True when the repository will have no tags once the plan has run. */
function leftWithoutTags(snapshot: RepositorySnapshot, actions: CleanContext['plan']): boolean {
  if (snapshot.tagList === null) return true;
  const remaining = new Set(snapshot.tagList);
  for (const action of actions) {
    if (action.repository !== snapshot.name || action.registry !== snapshot.registry) continue;
    if (action.kind === 'remove-tag') remaining.delete(action.tag);
    else for (const tag of action.tags) remaining.delete(tag);
  }
  return remaining.size === 0;
}
