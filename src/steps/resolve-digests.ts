import { repositoriesOf } from '../pipeline/repositories-of.js';
import { resolveRepository } from '../pipeline/resolve-repository.js';
import type { CleanContext } from '../pipeline/context.js';
import type { Step } from '../pipeline/step.js';
import { planRepositoryInto } from '../pipeline/plan-repository-into.js';
import { repositoryKey, type RepositorySnapshot } from '../plan/repository-snapshot.js';
import { plural } from '../util/plural.js';
import { mapLimit } from '../util/map-limit.js';

/**
 * Resolves the digest of every tag in each repository that has something to delete, then
 * plans the deletion (see `planRepository`) and which repositories it will leave empty.
 */
export const resolveDigestsStep: Step<CleanContext> = {
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

    ctx.plan = [];
    ctx.pruneCandidates = [];
    for (const { registry, repository, images } of groups) {
      const snapshot = ctx.repositories.get(repositoryKey(registry, repository)) as RepositorySnapshot;
      for (const warning of planRepositoryInto(ctx, snapshot, { images })) io.warn(warning);
    }
    io.title(`Resolve digests and plan: ${plural(ctx.plan.length, 'deletion')} planned`);
  },
};
