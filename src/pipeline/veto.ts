import { RunError } from '../errors/run-error.js';
import { settle } from '../plan/image-outcome.js';
import { repositoryKey } from '../plan/repository-snapshot.js';
import type { CleanContext } from './context.js';
import { planRepositoryInto } from './plan-repository-into.js';

/**
 * A plugin keeps a listed image: it is settled as skipped, and — if its repository was planned
 * already — the repository is planned again without it, so a digest DELETE that would have
 * taken it along becomes the removal of the other tags on their own.
 */
export function vetoImage(ctx: CleanContext, text: string, reason: string): void {
  if (ctx.reached.has('delete')) throw new RunError(`cannot keep ${text}: deletion has already started (place the step before "delete")`);
  const image = ctx.images.find((i) => i.image === text);
  if (!image) throw new RunError(`cannot keep ${text}: it is not in the image list`);
  if (image.status !== 'pending') return;
  settle(image, 'skipped', reason);
  const snapshot = ctx.repositories.get(repositoryKey(image.ref.registry, image.ref.repository));
  if (snapshot && ctx.plan.some((a) => a.registry === snapshot.registry && a.repository === snapshot.name)) {
    for (const warning of planRepositoryInto(ctx, snapshot)) ctx.warnings.push(warning);
  }
}
