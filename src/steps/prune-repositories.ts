import type { CleanContext } from '../pipeline/context.js';
import type { Step } from '../pipeline/step.js';
import { mapLimit } from '../util/map-limit.js';

/**
 * An upload younger than this may be a push still landing, so its repository is not pruned.
 * Older ones (and cancelled ones, which have no start time left) are debris: the registry
 * itself purges uploads after 168 hours.
 */
const uploadInFlightMs = 24 * 60 * 60 * 1000;

/**
 * Removes repositories the run left without tags, so they leave `_catalog`. Only when the
 * API and storage agree there are no tags and no upload is landing; nested repositories
 * keep their parent directory.
 */
export const pruneRepositoriesStep: Step<CleanContext> = {
  id: 'prune',
  title: 'Prune emptied repositories',
  skip(ctx) {
    if (ctx.pruneCandidates.length === 0) return 'no repository was emptied';
    const withoutStorage = ctx.pruneCandidates.filter((c) => !ctx.registries.get(c.registry)?.storage);
    if (withoutStorage.length === ctx.pruneCandidates.length) {
      const names = withoutStorage.map((c) => `${c.registry}/${c.repository}`).join(', ');
      return `no storage configured: ${names} ${withoutStorage.length === 1 ? 'stays' : 'stay'} in _catalog with no tags (configure storage to prune emptied repositories)`;
    }
    return false;
  },
  async run(ctx, io) {
    const candidates = ctx.pruneCandidates.filter((c) => ctx.registries.get(c.registry)?.storage);
    for (const missing of ctx.pruneCandidates.filter((c) => !ctx.registries.get(c.registry)?.storage)) {
      io.warn(`${missing.registry}/${missing.repository} has no tags left but stays in _catalog: configure storage for ${missing.registry} to prune it`);
    }
    let done = 0;
    await mapLimit(
      candidates,
      ctx.options.concurrency,
      async ({ registry, repository }) => {
        await pruneOne(ctx, registry, repository, io);
        io.progress(++done, candidates.length);
      },
      ctx.signal,
    );
    const verb = ctx.options.dryRun ? 'would prune' : 'pruned';
    io.title(`Prune emptied repositories: ${verb} ${ctx.pruned.length}`);
  },
};

async function pruneOne(ctx: CleanContext, registry: string, repository: string, io: { warn(m: string): void; info(m: string): void }) {
  const target = ctx.registries.get(registry)!;
  const storage = target.storage!;
  const contents = await storage.contents(repository);
  if (!contents.exists) return;
  if (!contents.hasManifests) {
    // Without `_manifests` it is either only a parent of nested repositories, or a first push
    // between its blobs and its manifest: not ours to remove either way.
    if (contents.nested.length === 0) io.info(`${registry}/${repository} has no _manifests (a first push may be landing); not pruned`);
    return;
  }
  const left = [...contents.nested, ...contents.other];
  if (ctx.options.dryRun) {
    ctx.pruned.push({ registry, repository, directoryRemoved: left.length === 0, ...(left.length > 0 && { keptFor: left }) });
    return;
  }
  const tags = await target.client.tags(repository);
  if ((tags?.length ?? 0) > 0 || contents.tags.length > 0) {
    io.warn(`${registry}/${repository} was not pruned: it has tags again (${[...new Set([...(tags ?? []), ...contents.tags])].join(', ')})`);
    return;
  }
  const landing = contents.uploads.filter((u) => u.startedAt && Date.now() - u.startedAt.getTime() < uploadInFlightMs);
  if (landing.length > 0) {
    io.warn(`${registry}/${repository} was not pruned: ${landing.length} upload(s) started in the last 24 hours may still be landing; run rc again once pushes finish`);
    return;
  }
  const { directoryRemoved } = await storage.pruneRepository(repository);
  io.info(`pruned ${registry}/${repository}${directoryRemoved ? '' : ` (directory kept: it holds ${left.join(', ')})`}`);
  ctx.pruned.push({ registry, repository, directoryRemoved, ...(!directoryRemoved && { keptFor: left }) });
}
