import type { RegistryClient } from '../registry/client.js';
import { mapLimit } from '../util/map-limit.js';

export interface TagListing {
  tag: string;
  digest?: string;
  mediaType?: string;
}

export interface RepositoryListing {
  name: string;
  tags: TagListing[];
}

/**
 * Every repository with its tags (and digests, if asked), in catalog order, one catalog page
 * at a time: only a page's worth of repositories is held in memory.
 */
export async function* walkRegistry(
  client: RegistryClient,
  options: { digests: boolean; concurrency: number; signal?: AbortSignal },
): AsyncGenerator<RepositoryListing> {
  for await (const page of client.catalogPages()) {
    const listings = await mapLimit(
      page,
      Math.max(1, Math.ceil(options.concurrency / 2)),
      async (name): Promise<RepositoryListing> => {
        // Sorted: the registry's own order is whatever its storage lists first.
        const tags = ((await client.tags(name)) ?? []).sort();
        if (!options.digests) return { name, tags: tags.map((tag) => ({ tag })) };
        const heads = await mapLimit(tags, options.concurrency, (tag) => client.headManifest(name, tag), options.signal);
        return {
          name,
          tags: tags.map((tag, i) => {
            const head = heads[i];
            return head ? { tag, digest: head.digest, mediaType: head.mediaType.split(';')[0] ?? '' } : { tag };
          }),
        };
      },
      options.signal,
    );
    yield* listings;
  }
}
