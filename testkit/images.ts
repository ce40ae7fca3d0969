import { mapConcurrent } from './concurrency.js';
import { type Credentials, callExpecting, sha256Digest, v2Url } from './http.js';
import { type Blob, type Image, type Layer, makeImage, makeIndex, makeLayer } from './image-builder.js';
import { MANIFEST_ACCEPT, type ManifestFlavor } from './media-types.js';

/**
 * Pushes images to a registry over the HTTP API, the way docker and skopeo do:
 * blobs first (skipping ones the repository has), then the manifest under each tag.
 */

export * from './image-builder.js';

export interface PushOptions {
  /** Basic-auth credentials, for a registry started with `htpasswd`. */
  credentials?: Credentials;
  /** Ask the registry to mount blobs from this repository (cross-repo mount) before uploading. */
  mountFrom?: string;
}

export type BlobPushResult = 'exists' | 'mounted' | 'uploaded';

/** Anything with manifest bytes: an Image, an Index, or bytes fetched from a registry. */
export interface ManifestPayload {
  mediaType: string;
  bytes: Buffer;
  digest: string;
}

/** Uploads one blob unless the repository already links it: HEAD, then POST (mount?) and a monolithic PUT. */
export async function pushBlob(registryUrl: string, repository: string, blob: Blob, options: PushOptions = {}): Promise<BlobPushResult> {
  const { credentials } = options;
  const head = await callExpecting(v2Url(registryUrl, `${repository}/blobs/${blob.digest}`), [200, 404], { method: 'HEAD', credentials });
  if (head.status === 200) return 'exists';

  const mount = options.mountFrom ? `?mount=${encodeURIComponent(blob.digest)}&from=${encodeURIComponent(options.mountFrom)}` : '';
  const started = await callExpecting(v2Url(registryUrl, `${repository}/blobs/uploads/${mount}`), [201, 202], { method: 'POST', credentials });
  // 201 answers a mount that worked; 202 opens an upload (also when the mount source lacks the blob).
  if (started.status === 201) return 'mounted';
  const location = started.headers.location;
  if (!location) throw new Error(`POST ${repository}/blobs/uploads/ answered 202 without a Location header`);

  const uploadUrl = new URL(location, registryUrl);
  uploadUrl.searchParams.set('digest', blob.digest);
  await callExpecting(uploadUrl.toString(), [201], {
    method: 'PUT',
    credentials,
    headers: { 'content-type': 'application/octet-stream' },
    body: blob.data,
  });
  return 'uploaded';
}

/** PUTs manifest bytes under a tag or digest and checks the digest the registry computed. */
export async function pushManifest(
  registryUrl: string,
  repository: string,
  reference: string,
  payload: ManifestPayload,
  options: PushOptions = {},
): Promise<string> {
  const url = v2Url(registryUrl, `${repository}/manifests/${reference}`);
  const response = await callExpecting(url, [201], {
    method: 'PUT',
    credentials: options.credentials,
    headers: { 'content-type': payload.mediaType },
    body: payload.bytes,
  });
  const answered = response.headers['docker-content-digest'];
  if (answered !== undefined && answered !== payload.digest) {
    throw new Error(`PUT ${url}: registry computed ${answered}, the kit expected ${payload.digest}`);
  }
  return payload.digest;
}

function tagList(tags: string | readonly string[]): readonly string[] {
  return typeof tags === 'string' ? [tags] : tags;
}

/** Pushes manifest bytes to each tag, or by digest alone when `tags` is empty (an untagged manifest). */
async function putUnderTags(registryUrl: string, repository: string, tags: string | readonly string[], payload: ManifestPayload, options: PushOptions): Promise<string> {
  const references = tagList(tags);
  for (const reference of references.length ? references : [payload.digest]) {
    await pushManifest(registryUrl, repository, reference, payload, options);
  }
  return payload.digest;
}

async function pushBlobs(registryUrl: string, repository: string, image: Image, options: PushOptions): Promise<void> {
  // De-duplicated: an image may list the same layer twice; one upload is enough.
  const unique = new Map(image.blobs.map((blob) => [blob.digest, blob]));
  await mapConcurrent([...unique.values()], 4, (blob) => pushBlob(registryUrl, repository, blob, options));
}

/** Pushes an image's blobs and then its manifest under every tag. Returns the manifest digest. */
export async function pushImage(
  registryUrl: string,
  repository: string,
  tags: string | readonly string[],
  image: Image,
  options: PushOptions = {},
): Promise<string> {
  await pushBlobs(registryUrl, repository, image, options);
  return putUnderTags(registryUrl, repository, tags, image, options);
}

/**
 * Pushes each image by digest, then a Docker manifest list or OCI index over them under
 * `tags`. Children stay untagged, as buildx leaves them. Returns the index digest.
 */
export async function pushIndex(
  registryUrl: string,
  repository: string,
  tags: string | readonly string[],
  images: Image[],
  mediaType: ManifestFlavor = 'docker',
  options: PushOptions = {},
): Promise<string> {
  for (const image of images) await pushImage(registryUrl, repository, [], image, options);
  return putUnderTags(registryUrl, repository, tags, makeIndex(images, mediaType), options);
}

/** Fetches a manifest's exact bytes by digest or tag (with all four Accept types). */
export async function fetchManifest(registryUrl: string, repository: string, reference: string, credentials?: Credentials): Promise<ManifestPayload> {
  const url = v2Url(registryUrl, `${repository}/manifests/${reference}`);
  const response = await callExpecting(url, [200], { credentials, headers: { accept: MANIFEST_ACCEPT } });
  const mediaType = response.headers['content-type'];
  if (!mediaType) throw new Error(`GET ${url} answered without a Content-Type`);
  return { mediaType, bytes: response.body, digest: sha256Digest(response.body) };
}

/** Points another tag at an existing manifest (same bytes, so the same digest): two tags, one digest. */
export async function tagDigest(registryUrl: string, repository: string, tag: string, digest: string, credentials?: Credentials): Promise<void> {
  const payload = await fetchManifest(registryUrl, repository, digest, credentials);
  if (payload.digest !== digest) throw new Error(`${repository}@${digest}: the registry served bytes hashing to ${payload.digest}`);
  await pushManifest(registryUrl, repository, tag, payload, { credentials });
}

export interface FillOptions {
  repositories: number;
  tagsPerRepository: number;
  /** Image pushes in flight at once; default 8. */
  concurrency?: number;
  /** Repository names; default `fill/repo-000`, `fill/repo-001`, … */
  repositoryName?: (index: number) => string;
  /** Tag names; default `tag-000`, `tag-001`, … */
  tagName?: (index: number) => string;
  /** Unique layers per image (besides the shared base); default 1. */
  layersPerImage?: number;
  /** Bytes in each unique layer; default 512. */
  layerSize?: number;
  /** One base layer under every image, as real images share a distro base; default true. */
  sharedBaseLayer?: boolean;
  mediaType?: ManifestFlavor;
  credentials?: Credentials;
  /** Mixed into every seed so two fills of one registry differ; default 'fill'. */
  seed?: string;
}

export interface FilledImage {
  repository: string;
  tag: string;
  digest: string;
}

export interface FillResult {
  repositories: string[];
  /** Every pushed tag, repository-major, in name order. */
  images: FilledImage[];
  /** The shared base layer, when there is one. */
  baseLayer: Layer | undefined;
}

const pad = (n: number): string => String(n).padStart(3, '0');

/**
 * Fills a registry with `repositories` × `tagsPerRepository` distinct images, pushed
 * concurrently. The base layer is uploaded once and cross-mounted into the other
 * repositories (`mountFrom` the first), as docker does for a shared base.
 */
export async function fillRegistry(registryUrl: string, options: FillOptions): Promise<FillResult> {
  const seed = options.seed ?? 'fill';
  const repositoryName = options.repositoryName ?? ((i: number) => `fill/repo-${pad(i)}`);
  const tagName = options.tagName ?? ((i: number) => `tag-${pad(i)}`);
  const repositories = Array.from({ length: options.repositories }, (_, i) => repositoryName(i));
  const baseLayer = options.sharedBaseLayer === false ? undefined : makeLayer(`${seed}/base`, 2048);
  const push: PushOptions = { credentials: options.credentials };

  const first = repositories[0];
  if (baseLayer && first !== undefined && options.tagsPerRepository > 0) {
    // Link the base into every repository before the concurrent pushes: distribution writes
    // link files in place, so a HEAD racing an upload of the same blob into the same
    // repository can read an empty link and answer 500 "invalid checksum digest format".
    await pushBlob(registryUrl, first, baseLayer, push);
    await mapConcurrent(repositories.slice(1), options.concurrency ?? 8, (repository) =>
      pushBlob(registryUrl, repository, baseLayer, { ...push, mountFrom: first }),
    );
  }
  const work = repositories.flatMap((repository) =>
    Array.from({ length: options.tagsPerRepository }, (_, j) => ({ repository, tag: tagName(j) })),
  );
  const images = await mapConcurrent(work, options.concurrency ?? 8, async ({ repository, tag }) => {
    const imageSeed = `${seed}/${repository}:${tag}`;
    const unique = Array.from({ length: options.layersPerImage ?? 1 }, (_, i) => makeLayer(`${imageSeed}/layer-${i}`, options.layerSize ?? 512));
    const image = makeImage({ seed: imageSeed, layers: baseLayer ? [baseLayer, ...unique] : unique, mediaType: options.mediaType ?? 'docker' });
    const digest = await pushImage(registryUrl, repository, tag, image, push);
    return { repository, tag, digest };
  });
  return { repositories, images, baseLayer };
}
