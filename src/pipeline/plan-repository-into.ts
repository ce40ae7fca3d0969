import { planRepository, resetPlanning } from '../plan/plan-repository.js';
import type { ImageOutcome } from '../plan/image-outcome.js';
import type { RepositorySnapshot } from '../plan/repository-snapshot.js';
import type { CleanContext } from './context.js';

/**
 * (Re)plans one repository into the run: its images' plan, its actions in `ctx.plan` and
 * whether the plan empties it. Used when planning first (`first`: the repository's images, and
 * no earlier plan of it to replace), when the repository changed just before deletion, and when
 * a plugin vetoes one of its images. Returns the planner's warnings.
 */
export function planRepositoryInto(ctx: CleanContext, snapshot: RepositorySnapshot, first?: { images: ImageOutcome[] }): string[] {
  const { registry, name } = snapshot;
  const target = ctx.registries.get(registry)!;
  const images = first?.images ?? ctx.images.filter((i) => i.ref.registry === registry && i.ref.repository === name);
  resetPlanning(images);
  const plan = planRepository(snapshot, images, { tagDelete: target.support?.tagDelete ?? false, storage: target.storage !== undefined });
  // Planning every repository the first time, there is nothing to replace (and thousands of repositories must not cost n²).
  if (first) {
    for (const action of plan.actions) ctx.plan.push(action);
  } else {
    ctx.plan = [...ctx.plan.filter((a) => a.registry !== registry || a.repository !== name), ...plan.actions];
    ctx.pruneCandidates = ctx.pruneCandidates.filter((c) => c.registry !== registry || c.repository !== name);
  }
  // A repository the registry does not know can only be debris in storage: look only where storage is.
  const worthChecking = snapshot.tags !== null || target.storage !== undefined;
  if (worthChecking && leftWithoutTags(snapshot, ctx.plan)) ctx.pruneCandidates.push({ registry, repository: name });
  return plan.warnings;
}

/** True when the repository will have no tags once the plan has run. */
function leftWithoutTags(snapshot: RepositorySnapshot, actions: CleanContext['plan']): boolean {
  if (snapshot.tags === null) return true;
  const remaining = new Set(snapshot.tags);
  for (const action of actions) {
    if (action.repository !== snapshot.name || action.registry !== snapshot.registry) continue;
    if (action.kind === 'remove-tag') remaining.delete(action.tag);
    else for (const tag of action.tags) remaining.delete(tag);
  }
  return remaining.size === 0;
}
