import { RunError } from '../errors/run-error.js';
import { walkRegistry } from '../listing/walk-registry.js';
import type { CleanContext } from '../pipeline/context.js';
import { recoverRegistry } from '../maintenance/recover-registry.js';
import { proveStorage } from '../pipeline/confirm-storage.js';
import type { RegistryTarget } from '../pipeline/registry-target.js';
import { readStorageView } from '../pipeline/resolve-repository.js';
import { repositoriesOf } from '../pipeline/repositories-of.js';
import { recoverTagsSetAside } from '../pipeline/tags-set-aside.js';
import type { Step } from '../pipeline/step.js';
import { settle, type ImageOutcome } from '../plan/image-outcome.js';
import { repositoryKey, type RepositorySnapshot } from '../plan/repository-snapshot.js';
import { isIndexMediaType } from '../registry/media-types.js';
import { Limiter } from '../util/limiter.js';
import { mapLimit } from '../util/map-limit.js';

/**
 * Finds which listed images exist (one tags/list per repository, never per image), then —
 * before any change — makes sure each registry allows deletion, that its configured storage
 * really is its own, and that the configured GC cannot destroy multi-arch images. Where storage
 * is configured, each repository's tags are read from it as soon as its tag list arrives, while
 * the others are still on their way: the resolve step then has them without a wait.
 */
export const verifyImagesStep: Step<CleanContext> = {
  id: 'verify',
  title: 'Check which images exist',
  skip: (ctx) => (ctx.images.length === 0 ? 'no images listed' : false),
  async run(ctx, io) {
    const repositories = repositoriesOf(ctx.images);
    let done = 0;
    for (const target of ctx.registries.values()) {
      // A run interrupted inside its GC window may have left the registry stopped or read-only.
      await recoverRegistry(ctx, target, io);
      await target.client.ping();
      // One killed while deleting may have left tags set aside: back before the tags are listed.
      if (!ctx.options.dryRun && target.storage) {
        for (const { run, putBack, dropped } of await recoverTagsSetAside(target.storage)) {
          io.warn(`${target.host}: an interrupted run (${target.storage.setAsideLocation(run)}) had set tags aside for deletion: ${putBack} put back, ${dropped} dropped (their manifest was deleted, or the tag was pushed again)`);
        }
      }
    }
    // Each registry is probed on the first repository found to hold a listed image, while the
    // others are still being listed (a round trip; its upload's cancel, one more, is not waited
    // for). Once the run is interrupted or a listing failed, no probe starts: it would send
    // requests, an upload among them, for a run that changes nothing.
    const probes = new Map<string, Promise<{ failed: unknown } | undefined>>();
    // As many repositories at a time as the resolve step reads: an exec backend starts a process for each batch.
    const storageReads = new Limiter(Math.max(1, Math.ceil(ctx.options.concurrency / 4)));
    let listingFailed = false;
    try {
      await mapLimit(
        repositories,
        ctx.options.concurrency,
        async ({ registry, repository, images }) => {
          const target = ctx.registries.get(registry)!;
          const probeOnce = () => {
            const stopped = listingFailed || ctx.signal.aborted;
            if (!stopped && !probes.has(registry) && images.some((i) => i.status === 'pending')) {
              probes.set(registry, probeRegistry(ctx, target, repository).then(() => undefined, (error: unknown) => ({ failed: error })));
            }
          };
          try {
            await checkRepository(ctx, target, repository, images, storageReads, probeOnce);
          } catch (error) {
            listingFailed = true;
            throw error;
          }
          io.progress(++done, repositories.length);
        },
        ctx.signal,
      );
    } finally {
      // Whatever failed, no probe is left running (its upload is cancelled and cleared away).
      await Promise.all(probes.values());
    }
    // Every probe's verdict first, in the order the registries were listed, then the slower checks.
    for (const host of ctx.registries.keys()) {
      const outcome = await probes.get(host);
      if (outcome) throw outcome.failed;
    }
    for (const [host, target] of ctx.registries) if (probes.has(host)) await refuseUntaggedSweepOfIndexes(ctx, target);
    const present = ctx.images.filter((i) => i.status === 'pending').length;
    io.title(`Check which images exist: ${present} present, ${ctx.images.length - present} absent`);
  },
};

/**
 * Which of a repository's listed images exist: its tags/list (one request however many are
 * listed), a HEAD for those listed by digest. Then `listed` (where the registry's probe may
 * start, rather than after the storage is read) and, if anything in it is to be deleted, the
 * storage's view of those tags, for the resolve step to use once the storage is proven the
 * registry's own (never in a dry run: it leaves no upload to prove it, and resolves through the API).
 */
async function checkRepository(ctx: CleanContext, target: RegistryTarget, repository: string, images: ImageOutcome[], storageReads: Limiter, listed: () => void): Promise<void> {
  const { client, host: registry } = target;
  const tags = await client.tags(repository);
  const tagSet = new Set(tags ?? []);
  for (const image of images) {
    if (tags === null) settle(image, 'absent', `repository ${repository} does not exist`);
    else if (image.ref.tag !== undefined && !tagSet.has(image.ref.tag)) settle(image, 'absent', `tag ${image.ref.tag} does not exist`);
    else if (image.ref.digest !== undefined && (await client.headManifest(repository, image.ref.digest)) === null) {
      settle(image, 'absent', `manifest ${image.ref.digest} does not exist`);
    }
  }
  listed();
  const snapshot: RepositorySnapshot = { registry, name: repository, tags, heads: new Map(), indexChildren: new Map() };
  const storage = target.storage;
  if (storage && tags !== null && !ctx.options.dryRun && images.some((i) => i.status === 'pending')) {
    snapshot.stored = await storageReads.run(() => readStorageView(storage, repository, tags));
  }
  ctx.repositories.set(repositoryKey(registry, repository), snapshot);
}

/**
 * Before any change: the registry allows deletion, and the configured storage is its own. Both
 * at once, a round trip sooner than one after the other: where deletion turns out disabled the
 * upload was for nothing, but it is cancelled and cleared away like any other. The probe ends
 * with the proof: the upload's cancel goes on beside the next steps.
 */
async function probeRegistry(ctx: CleanContext, target: RegistryTarget, repository: string): Promise<void> {
  const [support, storage] = await Promise.allSettled([
    target.client.deletionSupport(repository),
    // A dry run must leave storage byte-identical, so the identity proof waits for the real run.
    ctx.options.dryRun ? undefined : proveStorage(target, repository),
  ]);
  // The proof's upload is cleared away while the run goes on: a round trip the deletions need not wait for.
  if (storage.status === 'fulfilled' && storage.value) target.probeUpload = storage.value.cleared;
  // What deletion support found comes first: a registry that cannot delete has nothing to prove.
  if (support.status === 'rejected') throw support.reason;
  target.support = support.value;
  if (!target.support.deleteEnabled) throw deletionDisabled(target.host);
  if (storage.status === 'rejected') throw storage.reason;
}

function deletionDisabled(host: string): RunError {
  return new RunError(`registry ${host} has deletion disabled (405 UNSUPPORTED); nothing was changed`, {
    hint:
      'enable it in the registry config (storage: { delete: { enabled: true } }) or with the environment ' +
      'variable REGISTRY_STORAGE_DELETE_ENABLED=true, restart the registry, and run rc again',
  });
}

/**
 * `garbage-collect --delete-untagged` on distribution 2.x sweeps the platform images of every
 * multi-arch index, because they carry no tags of their own (fixed only in 3.0). A registry
 * without tag delete is taken for 2.x; it is refused while any tagged index exists.
 */
async function refuseUntaggedSweepOfIndexes(ctx: CleanContext, target: RegistryTarget): Promise<void> {
  const wouldSweep = ctx.options.gc && target.gc.enabled && target.gc.deleteUntagged && target.runtime !== undefined;
  if (!wouldSweep || target.support?.tagDelete) return;
  for await (const repository of walkRegistry(target.client, { digests: true, concurrency: ctx.options.concurrency, signal: ctx.signal })) {
    const index = repository.tags.find((t) => isIndexMediaType(t.mediaType));
    if (index) {
      throw new RunError(
        `gc.deleteUntagged is refused on ${target.host}: it is a distribution 2.x registry and ${repository.name}:${index.tag} is a multi-arch index, whose platform images 2.x garbage collection would delete (fixed only in distribution 3.0); nothing was changed`,
        { hint: 'set gc.deleteUntagged to false (the default), or upgrade the registry to 3.x' },
      );
    }
  }
}
