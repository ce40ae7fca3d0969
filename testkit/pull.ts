import { mapConcurrent } from './concurrency.js';
import { type Credentials, type RegistryResponse, RegistryResponseError, call, registryErrorCode, sha256Digest, v2Url } from './http.js';
import { MANIFEST_ACCEPT, MediaType, isIndexMediaType } from './media-types.js';

/**
 * Reads a registry the way a client that must trust the result would: every manifest and
 * blob is fetched and hashed, so "pulls" means the image is really whole.
 */

export interface PulledImage {
  digest: string;
  mediaType: string;
  /** Config and layer digests, each fetched in full and verified; empty for an index. */
  blobs: string[];
  /** For an index or manifest list: each child, pulled the same way. */
  children?: PulledImage[];
}

export type PullProblem = 'manifest-missing' | 'manifest-corrupt' | 'blob-missing' | 'blob-corrupt' | 'unsupported';

/** What made a pull fail, naming the manifest or blob and how. */
export class PullError extends Error {
  readonly problem: PullProblem;
  /** `repository:tag` or `repository@digest` that was being pulled. */
  readonly image: string;
  /** The manifest or blob digest at fault, when known. */
  readonly digest: string | undefined;
  readonly status: number | undefined;

  constructor(problem: PullProblem, image: string, message: string, details: { digest?: string; status?: number } = {}) {
    super(`pull ${image}: ${message}`);
    this.name = 'PullError';
    this.problem = problem;
    this.image = image;
    this.digest = details.digest;
    this.status = details.status;
  }
}

interface Descriptor {
  mediaType?: string;
  digest: string;
  size: number;
}

interface ParsedManifest {
  mediaType?: string;
  config?: Descriptor;
  layers?: Descriptor[];
  manifests?: Descriptor[];
}

const isDigest = (reference: string): boolean => reference.startsWith('sha256:');
const imageName = (repository: string, reference: string): string => `${repository}${isDigest(reference) ? '@' : ':'}${reference}`;

/**
 * Fetches a manifest (all four Accept types), checks its digest against
 * `Docker-Content-Digest` (and the reference, when it is a digest), recurses into index
 * children, and GETs and hashes every blob. Throws a PullError naming what is missing or corrupt.
 */
export async function pullImage(registryUrl: string, repository: string, reference: string, options: { credentials?: Credentials } = {}): Promise<PulledImage> {
  return pull(registryUrl, repository, reference, options.credentials, imageName(repository, reference), undefined);
}

async function pull(registryUrl: string, repository: string, reference: string, credentials: Credentials | undefined, image: string, expectedSize: number | undefined): Promise<PulledImage> {
  const what = reference === image ? 'manifest' : `manifest ${reference}`;
  const url = v2Url(registryUrl, `${repository}/manifests/${reference}`);
  const response = await call(url, { credentials, headers: { accept: MANIFEST_ACCEPT } });
  if (response.status === 404) {
    const code = registryErrorCode(response.body.toString('utf8'));
    throw new PullError('manifest-missing', image, `${what} not found (404${code ? ` ${code}` : ''})`, { digest: isDigest(reference) ? reference : undefined, status: 404 });
  }
  if (response.status !== 200) throw new RegistryResponseError('GET', url, response, '200');

  const digest = sha256Digest(response.body);
  const announced = response.headers['docker-content-digest'];
  const corrupt = (message: string): PullError => new PullError('manifest-corrupt', image, `${what}: ${message}`, { digest, status: 200 });
  if (announced !== undefined && announced !== digest) throw corrupt(`body hashes to ${digest} but Docker-Content-Digest says ${announced}`);
  if (isDigest(reference) && reference !== digest) throw corrupt(`asked for ${reference}, body hashes to ${digest}`);
  if (expectedSize !== undefined && response.body.length !== expectedSize) throw corrupt(`${response.body.length} bytes, the index says ${expectedSize}`);

  let manifest: ParsedManifest;
  try {
    manifest = JSON.parse(response.body.toString('utf8')) as ParsedManifest;
  } catch {
    throw corrupt('body is not JSON');
  }
  // Content-Type is what the registry stored at push; the body's own field, when present, must agree.
  const mediaType = response.headers['content-type'] ?? manifest.mediaType ?? '';
  if (manifest.mediaType !== undefined && manifest.mediaType !== mediaType) {
    throw corrupt(`served as ${mediaType} but its mediaType field says ${manifest.mediaType}`);
  }

  if (isIndexMediaType(mediaType)) {
    const children = await mapConcurrent(manifest.manifests ?? [], 4, (child) => pull(registryUrl, repository, child.digest, credentials, image, child.size));
    return { digest, mediaType, blobs: [], children };
  }
  if (mediaType !== MediaType.dockerManifest && mediaType !== MediaType.ociManifest) {
    throw new PullError('unsupported', image, `${what} has media type ${mediaType || '(none)'}, not an image manifest or index`, { digest });
  }
  if (!manifest.config) throw corrupt('no config descriptor');
  const descriptors = [manifest.config, ...(manifest.layers ?? [])];
  await mapConcurrent(descriptors, 4, (descriptor, i) =>
    fetchBlob(registryUrl, repository, descriptor, credentials, image, i === 0 ? `config of ${digest}` : `layer ${i} of ${descriptors.length - 1} in ${digest}`),
  );
  return { digest, mediaType, blobs: descriptors.map((d) => d.digest) };
}

async function fetchBlob(registryUrl: string, repository: string, descriptor: Descriptor, credentials: Credentials | undefined, image: string, role: string): Promise<void> {
  const url = v2Url(registryUrl, `${repository}/blobs/${descriptor.digest}`);
  let response: RegistryResponse;
  try {
    response = await call(url, { credentials });
  } catch (error) {
    // distribution 2.8 with a stale blob cache (GC without restart) sends 200 and its headers,
    // then closes the connection without a byte of body.
    throw new PullError('blob-missing', image, `blob ${descriptor.digest} (${role}) could not be read: ${(error as Error).message} (a stale blob cache after GC answers 200, then closes the connection)`, { digest: descriptor.digest });
  }
  const details = { digest: descriptor.digest, status: response.status };
  if (response.status === 404) {
    const code = registryErrorCode(response.body.toString('utf8'));
    throw new PullError('blob-missing', image, `blob ${descriptor.digest} (${role}) is missing: GET answered 404${code ? ` ${code}` : ''}`, details);
  }
  if (response.status !== 200) {
    // A blob the cache says exists but storage lost answers 500 or similar, not 404: still a missing blob.
    throw new PullError('blob-missing', image, `blob ${descriptor.digest} (${role}) could not be read: GET answered ${response.status} ${response.body.toString('utf8').slice(0, 200).trim()}`, details);
  }
  const actual = sha256Digest(response.body);
  if (actual !== descriptor.digest || response.body.length !== descriptor.size) {
    throw new PullError('blob-corrupt', image, `blob ${descriptor.digest} (${role}) is corrupt: got ${response.body.length} bytes hashing to ${actual}, expected ${descriptor.size} bytes`, details);
  }
}

/** The digest a tag or digest resolves to (HEAD, all four Accept types), or null when there is no such manifest. */
export async function manifestDigest(registryUrl: string, repository: string, reference: string, credentials?: Credentials): Promise<string | null> {
  const url = v2Url(registryUrl, `${repository}/manifests/${reference}`);
  const response = await call(url, { method: 'HEAD', credentials, headers: { accept: MANIFEST_ACCEPT } });
  if (response.status === 404) return null;
  if (response.status !== 200) throw new RegistryResponseError('HEAD', url, response, '200 or 404');
  const digest = response.headers['docker-content-digest'];
  if (!digest) throw new Error(`HEAD ${url} answered 200 without Docker-Content-Digest`);
  return digest;
}

/** The `rel="next"` target of a Link header, resolved against the registry URL. */
function nextLink(link: string | undefined, registryUrl: string): string | undefined {
  const match = link?.match(/<([^>]+)>\s*;\s*rel="?next"?/);
  return match?.[1] ? new URL(match[1], registryUrl).toString() : undefined;
}

/** Follows `Link: rel="next"` from `first`, collecting `field` of every page. */
async function paginate(registryUrl: string, first: string, field: 'tags' | 'repositories', credentials: Credentials | undefined): Promise<string[] | null> {
  const all: string[] = [];
  for (let url: string | undefined = first; url; ) {
    const response = await call(url, { credentials });
    if (response.status === 404 && registryErrorCode(response.body.toString('utf8')) === 'NAME_UNKNOWN') return null;
    if (response.status !== 200) throw new RegistryResponseError('GET', url, response, '200');
    const page = JSON.parse(response.body.toString('utf8')) as Record<string, string[] | null | undefined>;
    all.push(...(page[field] ?? []));
    url = nextLink(response.headers.link, registryUrl);
  }
  return all;
}

/**
 * A repository's tags, sorted; [] when it exists with no tags (the registry says `null`),
 * null when the registry does not know the repository (404 NAME_UNKNOWN).
 */
export async function listTags(registryUrl: string, repository: string, credentials?: Credentials): Promise<string[] | null> {
  const tags = await paginate(registryUrl, v2Url(registryUrl, `${repository}/tags/list`), 'tags', credentials);
  return tags && [...tags].sort();
}

/** Every repository in `_catalog`, following pagination (`pageSize` per request, at most 1000 on 2.8.2+). */
export async function catalog(registryUrl: string, options: { pageSize?: number; credentials?: Credentials } = {}): Promise<string[]> {
  const first = v2Url(registryUrl, `_catalog?n=${options.pageSize ?? 100}`);
  return (await paginate(registryUrl, first, 'repositories', options.credentials)) ?? [];
}
