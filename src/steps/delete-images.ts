import { errorMessage } from '../errors/error-message.js';
import { RunError } from '../errors/run-error.js';
import { probeUploadsCleared } from '../pipeline/confirm-storage.js';
import type { CleanContext } from '../pipeline/context.js';
import type { RegistryTarget } from '../pipeline/registry-target.js';
import { resolveRepository } from '../pipeline/resolve-repository.js';
import type { Step, StepIO } from '../pipeline/step.js';
import type { DeletionAction, DeleteManifestAction } from '../plan/deletion-action.js';
import { settle, type ImageOutcome } from '../plan/image-outcome.js';
import { isPlannedByCore } from '../plan/plan-repository.js';
import { planRepositoryInto } from '../pipeline/plan-repository-into.js';
import { repositoryKey, type RepositorySnapshot } from '../plan/repository-snapshot.js';
import { mapLimit } from '../util/map-limit.js';
import { discardTagsSetAside, putBackUndeleted, setAsideRun, setTagsAside, type TagsSetAside } from '../pipeline/tags-set-aside.js';

/**
 * Carries out the plan, a repository at a time: one request per digest when all its tags go,
 * otherwise exactly the one tag. Right before deleting by digest it looks again for tags that
 * appeared on that digest since the plan was made, and plans again if any did. Multi-arch
 * indexes go first: their platform images only once the index is gone.
 */
export const deleteImagesStep: Step<CleanContext> = {
  id: 'delete',
  title: 'Delete images',
  skip: (ctx) => (ctx.options.dryRun ? 'dry run: nothing is deleted' : ctx.plan.length === 0 ? 'nothing to delete' : false),
  async run(ctx, io) {
    const byRepository = new Map<string, DeletionAction[]>();
    for (const action of ctx.plan) {
      // Only what the core planned is carried out: nothing can slip a deletion past its rules.
      if (!isPlannedByCore(action)) {
        io.warn(`ignored a deletion of ${action.registry}/${action.repository} that rc did not plan`);
        continue;
      }
      const key = repositoryKey(action.registry, action.repository);
      const group = byRepository.get(key);
      if (group) group.push(action);
      else byRepository.set(key, [action]);
    }
    let done = 0;
    const total = ctx.plan.length;
    const progress = () => io.progress(++done, total);
    // Tags set aside and settled are removed while other repositories are deleted; the step waits for them all.
    const discards: Array<Promise<void>> = [];
    try {
      await mapLimit(
        [...byRepository.entries()],
        Math.max(1, Math.ceil(ctx.options.concurrency / 4)),
        async ([key, actions]) => {
          await deleteInRepository(ctx, ctx.repositories.get(key) as RepositorySnapshot, actions, io, progress, (discard) => discards.push(discard));
          // Nothing after this step reads a repository's tags and manifests: at 100,000 tags they are most of the memory.
          ctx.repositories.delete(key);
        },
        ctx.signal,
      );
    } finally {
      await Promise.all(discards);
      if (discards.length > 0) {
        for (const target of ctx.registries.values()) {
          await target.storage?.removeSetAsideRun(setAsideRun).catch((error: unknown) => io.warn(`${target.host}: ${errorMessage(error)}`));
        }
      }
      // The probe's upload, cancelled while the images were deleted: gone before any later step looks at the storage.
      for (const warning of await probeUploadsCleared(ctx.registries.values())) io.warn(warning);
    }
    const deleted = ctx.images.filter((i) => i.status === 'deleted').length;
    const failed = ctx.images.filter((i) => i.status === 'failed').length;
    io.title(`Delete images: ${deleted} deleted${failed ? `, ${failed} failed` : ''}`);
  },
};

async function deleteInRepository(
  ctx: CleanContext,
  snapshot: RepositorySnapshot,
  planned: DeletionAction[],
  io: StepIO,
  progress: () => void,
  later: (discard: Promise<void>) => void,
) {
  const target = ctx.registries.get(snapshot.registry) as RegistryTarget;
  let actions = planned;
  let aside: TagsSetAside | undefined;
  if (actions.some((a) => a.kind === 'delete-manifest')) {
    try {
      actions = await replanIfChanged(ctx, target, snapshot, actions, io);
      aside = await setTagsAside(target, snapshot.name, actions.filter((a): a is DeleteManifestAction => a.kind === 'delete-manifest'));
    } catch (error) {
      const reason = errorMessage(error);
      for (const image of planned.flatMap(imagesOf)) settle(image, 'failed', reason);
      io.warn(`${snapshot.registry}/${snapshot.name} left alone: ${reason}`);
      return;
    }
  }

  const failedIndexes = new Set<string>();
  const deleted = new Set<DeleteManifestAction>();
  const run = async (action: DeletionAction) => {
    try {
      const parent = action.kind === 'delete-manifest' ? (snapshot.indexChildren.get(action.digest) ?? []).find((i) => failedIndexes.has(i)) : undefined;
      if (parent) throw new RunError(`left alone: its multi-arch index ${parent} could not be deleted`);
      await carryOut(target, action);
      if (action.kind === 'delete-manifest') deleted.add(action);
    } catch (error) {
      if (action.kind === 'delete-manifest' && action.isIndex) failedIndexes.add(action.digest);
      const reason = errorMessage(error);
      for (const image of imagesOf(action)) settle(image, 'failed', reason);
      io.warn(`${describe(action)} failed: ${reason}`);
    }
    progress();
  };
  const indexesFirst = actions.filter((a) => a.kind === 'delete-manifest' && a.isIndex);
  try {
    await mapLimit(indexesFirst, ctx.options.concurrency, run, ctx.signal);
    await mapLimit(actions.filter((a) => !indexesFirst.includes(a)), ctx.options.concurrency, run, ctx.signal);
  } finally {
    if (aside) await settleTagsSetAside(aside, deleted, io, later);
  }
}

/** Tags of manifests still there go back at once; the others are removed while other repositories are deleted. */
async function settleTagsSetAside(aside: TagsSetAside, deleted: Set<DeleteManifestAction>, io: StepIO, later: (discard: Promise<void>) => void) {
  const where = `${aside.storage.setAsideLocation(setAsideRun)} (${aside.storage.description})`;
  try {
    const discard = await putBackUndeleted(aside, deleted);
    later(discardTagsSetAside(aside, discard).catch((error: unknown) => io.warn(`${aside.repository}: tags of deleted manifests are left in ${where} (${errorMessage(error)}); the next rc run removes them`)));
  } catch (error) {
    io.warn(`${aside.repository}: tags set aside for deletion could not all be put back (${errorMessage(error)}); they are kept in ${where}, and the next rc run puts them back`);
  }
}

/**
 * Looks at the repository's tags again just before deleting by digest (a DELETE by digest
 * untags *every* tag on it, including one pushed a second ago). If anything changed, plans the
 * repository again on the fresh state, so a new sibling tag turns the DELETE into a tag removal.
 */
async function replanIfChanged(ctx: CleanContext, target: RegistryTarget, snapshot: RepositorySnapshot, actions: DeletionAction[], io: StepIO) {
  const before = new Map(snapshot.heads);
  snapshot.tags = await target.client.tags(snapshot.name);
  await resolveRepository(target, snapshot, { concurrency: ctx.options.concurrency, signal: ctx.signal, known: before });
  const same = snapshot.heads.size === before.size && [...snapshot.heads].every(([tag, head]) => before.get(tag)?.digest === head.digest);
  if (same) return actions;
  io.warn(`${snapshot.registry}/${snapshot.name} changed since it was read; planned again`);
  for (const warning of planRepositoryInto(ctx, snapshot)) io.warn(warning);
  return ctx.plan.filter((a) => a.registry === snapshot.registry && a.repository === snapshot.name);
}

async function carryOut(target: RegistryTarget, action: DeletionAction): Promise<void> {
  if (action.kind === 'delete-manifest') return deleteManifest(target, action);
  const client = target.client;
  // The tag must still be where we saw it: if it moved since, removing it would delete a different image.
  const current = await client.headManifest(action.repository, action.tag);
  if (current === null) return settle(action.image, 'absent', 'tag disappeared before it was deleted');
  if (current.digest !== action.digest) {
    throw new RunError(`tag ${action.tag} moved from ${action.digest} to ${current.digest} during the run; left alone`);
  }
  switch (action.method) {
    case 'tag-delete':
      await client.deleteManifest(action.repository, action.tag);
      break;
    case 'storage-tag-remove':
      await target.storage!.removeTag(action.repository, action.tag);
      break;
    case 'throwaway-manifest': {
      const throwaway = await client.pushThrowawayManifest(action.repository, action.tag);
      await client.deleteManifest(action.repository, throwaway);
      break;
    }
  }
  if ((await client.headManifest(action.repository, action.tag)) !== null) {
    throw new RunError(`tag ${action.tag} still resolves after removal (${action.method})`);
  }
  // The point of removing one tag alone: its siblings must still be there.
  const sibling = action.keptTags[0];
  if (sibling !== undefined && (await client.headManifest(action.repository, sibling))?.digest !== action.digest) {
    throw new RunError(`tag ${sibling}, which shares ${action.digest}, no longer resolves to it after ${action.tag} was removed`);
  }
  settle(action.image, 'deleted');
}

async function deleteManifest(target: RegistryTarget, action: DeleteManifestAction): Promise<void> {
  const result = await target.client.deleteManifest(action.repository, action.digest);
  for (const image of action.images) {
    if (result === 'deleted') settle(image, 'deleted');
    else settle(image, 'absent', `manifest ${action.digest} was already gone`);
  }
}

function imagesOf(action: DeletionAction): ImageOutcome[] {
  return action.kind === 'delete-manifest' ? action.images : [action.image];
}

function describe(action: DeletionAction): string {
  return action.kind === 'delete-manifest'
    ? `deleting ${action.registry}/${action.repository}@${action.digest}`
    : `removing tag ${action.registry}/${action.repository}:${action.tag}`;
}
