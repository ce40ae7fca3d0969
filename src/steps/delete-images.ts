import { RunError } from '../errors/run-error.js';
import type { CleanContext } from '../pipeline/context.js';
import type { Step } from '../pipeline/step.js';
import type { DeletionAction, DeleteManifestAction, RemoveTagAction } from '../plan/deletion-action.js';
import type { ImageOutcome } from '../plan/image-outcome.js';
import { mapLimit } from '../util/map-limit.js';

/** Carries out the plan: one request per digest when all its tags go, otherwise exactly the one tag. */
export const deleteImagesStep: Step = {
  id: 'delete',
  title: 'Delete images',
  skip: (ctx) => (ctx.options.dryRun ? 'dry run: nothing is deleted' : ctx.plan.length === 0 ? 'nothing to delete' : false),
  async run(ctx, io) {
    let done = 0;
    await mapLimit(
      ctx.plan,
      ctx.options.concurrency,
      async (action) => {
        try {
          await carryOut(ctx, action);
        } catch (error) {
          const reason = error instanceof Error ? error.message : String(error);
          for (const image of imagesOf(action)) fail(image, reason);
          io.warn(`${describe(action)} failed: ${reason}`);
        }
        io.progress(++done, ctx.plan.length);
      },
      ctx.signal,
    );
    const deleted = ctx.images.filter((i) => i.status === 'deleted').length;
    const failed = ctx.images.filter((i) => i.status === 'failed').length;
    io.title(`Delete images: ${deleted} deleted${failed ? `, ${failed} failed` : ''}`);
  },
};

async function carryOut(ctx: CleanContext, action: DeletionAction): Promise<void> {
  if (action.kind === 'delete-manifest') return deleteManifest(ctx, action);
  const target = ctx.registries.get(action.registry)!;
  const client = target.client;
  // The tag must still be where we saw it: if it moved since, removing it would delete a different image.
  const current = await client.headManifest(action.repository, action.tag);
  if (current === null) return done(action.image, 'absent', 'tag disappeared before it was deleted');
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
  done(action.image, 'deleted');
}

async function deleteManifest(ctx: CleanContext, action: DeleteManifestAction): Promise<void> {
  const result = await ctx.registries.get(action.registry)!.client.deleteManifest(action.repository, action.digest);
  for (const image of action.images) {
    if (result === 'deleted') done(image, 'deleted');
    else done(image, 'absent', `manifest ${action.digest} was already gone`);
  }
}

function imagesOf(action: DeletionAction): ImageOutcome[] {
  return action.kind === 'delete-manifest' ? action.images : [action.image];
}

function describe(action: DeletionAction): string {
  return action.kind === 'delete-manifest'
    ? `deleting ${action.registry}/${action.repository}@${action.digest}`
    : describeTag(action);
}

function describeTag(action: RemoveTagAction): string {
  return `removing tag ${action.registry}/${action.repository}:${action.tag}`;
}

function done(image: ImageOutcome, status: 'deleted' | 'absent', reason?: string): void {
  image.status = status;
  if (reason) image.reason = reason;
}

function fail(image: ImageOutcome, reason: string): void {
  image.status = 'failed';
  image.reason = reason;
}
