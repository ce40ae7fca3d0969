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
 * at a time. A few repositories are read ahead (half the concurrency), and each is handed out
 * as soon as it and those before it are done: memory holds a window, never a page of listings.
 */
export async function* walkRegistry(
  client: RegistryClient,
  options: { digests: boolean; concurrency: number; signal?: AbortSignal },
): AsyncGenerator<RepositoryListing> {
  const window = Math.max(1, Math.ceil(options.concurrency / 2));
  const list = async (name: string): Promise<RepositoryListing> => {
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
  };
  const ahead: Array<Promise<RepositoryListing>> = [];
  try {
    for await (const page of client.catalogPages()) {
      let next = 0;
      while (next < page.length || ahead.length > 0) {
        while (ahead.length < window && next < page.length) {
          options.signal?.throwIfAborted();
          const listing = list(page[next++]!);
          // Awaited below, in order; until then a failure must not count as unhandled.
          listing.catch(() => undefined);
          ahead.push(listing);
        }
        yield await ahead.shift()!;
      }
    }
  } finally {
    // Stopped early (a failure, or the consumer stopped): let the listings in flight finish first.
    await Promise.allSettled(ahead);
  }
}
