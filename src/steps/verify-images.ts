import { RunError } from '../errors/run-error.js';
import type { CleanContext } from '../pipeline/context.js';
import { confirmStorage } from '../pipeline/confirm-storage.js';
import { repositoriesOf } from '../pipeline/repositories-of.js';
import type { Step } from '../pipeline/step.js';
import { repositoryKey } from '../plan/repository-snapshot.js';
import { mapLimit } from '../util/map-limit.js';

/**
 * Finds which listed images exist (one tags/list per repository, never per image) and makes
 * sure each registry allows deletion — with requests that change nothing — before any change.
 */
export const verifyImagesStep: Step = {
  id: 'verify',
  title: 'Check which images exist',
  skip: (ctx) => (ctx.images.length === 0 ? 'no images listed' : false),
  async run(ctx, io) {
    const repositories = repositoriesOf(ctx.images);
    let done = 0;
    for (const target of ctx.registries.values()) await target.client.ping();
    await mapLimit(
      repositories,
      ctx.options.concurrency,
      async ({ registry, repository, images }) => {
        const client = ctx.registries.get(registry)!.client;
        const tags = await client.tags(repository);
        const tagSet = new Set(tags ?? []);
        for (const image of images) {
          if (tags === null) {
            absent(image, `repository ${repository} does not exist`);
          } else if (image.ref.tag !== undefined && !tagSet.has(image.ref.tag)) {
            absent(image, `tag ${image.ref.tag} does not exist`);
          } else if (image.ref.digest !== undefined && (await client.headManifest(repository, image.ref.digest)) === null) {
            absent(image, `manifest ${image.ref.digest} does not exist`);
          }
        }
        ctx.repositories.set(repositoryKey(registry, repository), {
          registry,
          name: repository,
          tagList: tags,
          tags: tags === null ? null : new Map(),
          indexChildren: new Map(),
        });
        io.progress(++done, repositories.length);
      },
      ctx.signal,
    );
    await checkDeletionAllowed(ctx);
    const present = ctx.images.filter((i) => i.status === 'pending').length;
    io.title(`Check which images exist: ${present} present, ${ctx.images.length - present} absent`);
  },
};

async function checkDeletionAllowed(ctx: CleanContext): Promise<void> {
  for (const target of ctx.registries.values()) {
    const probeRepository = ctx.images.find((i) => i.ref.registry === target.host && i.status === 'pending')?.ref.repository;
    if (!probeRepository) continue;
    target.support = await target.client.deletionSupport(probeRepository);
    if (!target.support.deleteEnabled) throw deletionDisabled(target.host);
    // A dry run must leave storage byte-identical, so the identity proof waits for the real run.
    if (!ctx.options.dryRun) await confirmStorage(target, probeRepository);
  }
}

function deletionDisabled(host: string): RunError {
  return new RunError(`registry ${host} has deletion disabled (405 UNSUPPORTED); nothing was changed`, {
    hint:
      'enable it in the registry config (storage: { delete: { enabled: true } }) or with the environment ' +
      'variable REGISTRY_STORAGE_DELETE_ENABLED=true, restart the registry, and run rc again',
  });
}

function absent(image: CleanContext['images'][number], reason: string): void {
  image.status = 'absent';
  image.reason = reason;
}
