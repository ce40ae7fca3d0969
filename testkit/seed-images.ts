import type { Credentials } from './http.js';
import { type Image, type Layer, type PushOptions, makeImage, makeLayer, pushImage, tagDigest } from './images.js';

/**
 * The seed walkthrough's registry: what it pushes, the cleanup list it runs, and what a
 * safe cleaner must leave. One trap is added to the walkthrough: `demo/nginx:stable`
 * shares 1.26's digest, so deleting 1.26 by digest would silently delete `stable` too.
 */

/** Tags per repository as pushed (sorted). */
export const SEED_TAGS_BEFORE: Readonly<Record<string, readonly string[]>> = {
  'demo/nginx': ['1.26', 'latest', 'stable'],
  'library/busybox': ['1.35.0', '1.36.1'],
  registry: ['latest'],
};

/**
 * Tags per repository after a correct cleanup: busybox:1.36.1 gone, `registry` emptied and
 * pruned (so not in `_catalog`), nginx:1.26 gone while `stable`, on the same digest, stays.
 */
export const SEED_TAGS_AFTER: Readonly<Record<string, readonly string[]>> = {
  'demo/nginx': ['latest', 'stable'],
  'library/busybox': ['1.35.0'],
};

/** `_catalog` after the cleanup: the emptied `registry` repository is pruned. */
export const SEED_CATALOG_AFTER: readonly string[] = Object.keys(SEED_TAGS_AFTER);

/** `repository:tag` lines, sorted: the walkthrough's listing, without its indentation. */
export function seedListing(tags: Readonly<Record<string, readonly string[]>>, host?: string): string {
  const lines = Object.entries(tags).flatMap(([repository, list]) => list.map((tag) => `${host ? `${host}/` : ''}${repository}:${tag}`));
  return `${lines.sort().join('\n')}\n`;
}

/** The listing a correct cleanup leaves. */
export const SEED_LISTING_AFTER = seedListing(SEED_TAGS_AFTER);

/**
 * The walkthrough's cleanup list for a registry at `host` (`127.0.0.1:PORT`): a plain tag, a
 * repository without a namespace, the shared-digest tag, and a tag that never existed.
 */
export function seedCleanupList(host: string): string {
  return ['library/busybox:1.36.1', 'registry:latest', 'demo/nginx:1.26', 'demo/nginx:noexist'].map((ref) => `${host}/${ref}`).join('\n') + '\n';
}

export interface SeedImages {
  /** `repository:tag` → manifest digest, for every pushed tag (`demo/nginx:stable` equals `demo/nginx:1.26`). */
  digests: Record<string, string>;
  /** `repository:tag` → the image pushed under it. */
  images: Record<string, Image>;
  /** Base layers shared by the two busybox images and by the two nginx images. */
  sharedLayers: { busybox: Layer; nginx: Layer };
}

/** Pushes the seed's images in the walkthrough's order, then adds the `stable` trap tag. */
export async function pushSeedImages(registryUrl: string, options: { credentials?: Credentials } = {}): Promise<SeedImages> {
  const push: PushOptions = { credentials: options.credentials };
  const sharedLayers = { busybox: makeLayer('seed/busybox-base', 4096), nginx: makeLayer('seed/debian-base', 8192) };
  const plan: Array<[repository: string, tag: string, image: Image]> = [
    ['demo/nginx', '1.26', makeImage({ seed: 'seed/nginx:1.26', layers: [sharedLayers.nginx, makeLayer('seed/nginx-1.26', 2048)] })],
    ['demo/nginx', 'latest', makeImage({ seed: 'seed/nginx:latest', layers: [sharedLayers.nginx, makeLayer('seed/nginx-1.27', 2048)] })],
    ['library/busybox', '1.36.1', makeImage({ seed: 'seed/busybox:1.36.1', layers: [sharedLayers.busybox, makeLayer('seed/busybox-1.36.1', 1024)] })],
    ['registry', 'latest', makeImage({ seed: 'seed/registry:latest', layers: 2, layerSize: 3072 })],
    ['library/busybox', '1.35.0', makeImage({ seed: 'seed/busybox:1.35.0', layers: [sharedLayers.busybox, makeLayer('seed/busybox-1.35.0', 1024)] })],
  ];
  const digests: Record<string, string> = {};
  const images: Record<string, Image> = {};
  for (const [repository, tag, image] of plan) {
    digests[`${repository}:${tag}`] = await pushImage(registryUrl, repository, tag, image, push);
    images[`${repository}:${tag}`] = image;
  }
  await tagDigest(registryUrl, 'demo/nginx', 'stable', digests['demo/nginx:1.26']!, options.credentials);
  digests['demo/nginx:stable'] = digests['demo/nginx:1.26']!;
  images['demo/nginx:stable'] = images['demo/nginx:1.26']!;
  return { digests, images, sharedLayers };
}
