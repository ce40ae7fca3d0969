import type { CleanContext } from '../pipeline/context.js';
import { repositoriesOf } from '../pipeline/repositories-of.js';
import { resolveRepository } from '../pipeline/resolve-repository.js';
import type { Step } from '../pipeline/step.js';
import { planRepository } from '../plan/plan-repository.js';
import { repositoryKey, type RepositorySnapshot } from '../plan/repository-snapshot.js';
import { plural } from '../util/plural.js';
import { mapLimit } from '../util/map-limit.js';

/**
 * Resolves the digest of every tag in each repository that has something to delete, then
 * plans the deletion (see `planRepository`) and which repositories it will leave empty.
 */
export const resolveDigestsStep: Step = {
  id: 'resolve',
  title: 'Resolve digests and plan',
  async run(ctx, io) {
    const groups = repositoriesOf(ctx.images);
    const affected = groups.filter((g) => g.images.some((i) => i.status === 'pending'));
    let done = 0;
    await mapLimit(
      affected,
      Math.max(1, Math.ceil(ctx.options.concurrency / 4)),
      async ({ registry, repository }) => {
        const snapshot = ctx.repositories.get(repositoryKey(registry, repository)) as RepositorySnapshot;
        await resolveRepository(ctx.registries.get(registry)!, snapshot, { concurrency: ctx.options.concurrency, signal: ctx.signal });
        io.progress(++done, affected.length);
      },
      ctx.signal,
    );

    for (const { registry, repository, images } of groups) {
      const target = ctx.registries.get(registry)!;
      const snapshot = ctx.repositories.get(repositoryKey(registry, repository)) as RepositorySnapshot;
      const plan = planRepository(snapshot, images, { tagDelete: target.support?.tagDelete ?? false, storage: target.storage !== undefined });
      ctx.plan.push(...plan.actions);
      for (const warning of plan.warnings) io.warn(warning);
      // A repository the registry does not know can only be debris in storage: look only where storage is.
      const worthChecking = snapshot.tags !== null || target.storage !== undefined;
      if (worthChecking && leftWithoutTags(snapshot, plan.actions)) ctx.pruneCandidates.push({ registry, repository });
    }
    io.title(`Resolve digests and plan: ${plural(ctx.plan.length, 'deletion')} planned`);
  },
};

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
