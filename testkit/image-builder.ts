import { createCipheriv, createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { sha256Digest } from './http.js';
import { type ManifestFlavor, MediaType } from './media-types.js';
import { tarArchive } from './tar.js';

/**
 * Builds real images in memory (no network): gzip'd tar layers, a config whose diff_ids
 * match, and the manifest bytes whose sha256 is the digest. Same seed, same bytes.
 */

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

/** Content-addressed bytes. */
export interface Blob {
  digest: string;
  data: Buffer;
}

/** A gzip'd tar layer; `diffId` is the sha256 of the uncompressed tar, as the config lists it. */
export interface Layer extends Blob {
  diffId: string;
}

interface Descriptor {
  mediaType: string;
  size: number;
  digest: string;
  platform?: Platform;
}

export interface ImageManifest {
  schemaVersion: 2;
  mediaType: string;
  config: Descriptor;
  layers: Descriptor[];
}

export interface IndexManifest {
  schemaVersion: 2;
  mediaType: string;
  manifests: Descriptor[];
}

export interface Image {
  kind: 'image';
  /** The manifest's media type (Docker v2 or OCI image manifest). */
  mediaType: string;
  manifest: ImageManifest;
  /** The exact manifest bytes to PUT; the digest is their sha256. */
  bytes: Buffer;
  digest: string;
  platform: Platform;
  config: Blob;
  layers: Layer[];
  /** Config then layers: everything a push uploads and a pull fetches. */
  blobs: Blob[];
}

export interface Index {
  kind: 'index';
  /** Docker manifest list or OCI image index. */
  mediaType: string;
  manifest: IndexManifest;
  bytes: Buffer;
  digest: string;
  /** The children, in manifest order. */
  images: Image[];
}

export interface MakeImageOptions {
  /** Distinguishes images: different seeds give different configs, layers and digests. */
  seed: string;
  /** A count of new layers (default 1), or layers to use as they are (share one to share a blob). */
  layers?: number | Array<Layer | Buffer>;
  /** Bytes of pseudo-random file content in each new layer (incompressible); default 1024. */
  layerSize?: number;
  /** Default linux/amd64; a string like 'linux/arm64/v8' works too. */
  platform?: Platform | string;
  /** Manifest family; default 'docker'. */
  mediaType?: ManifestFlavor;
}

const CREATED = '2024-01-01T00:00:00Z';

export function parsePlatform(platform: Platform | string | undefined): Platform {
  if (platform === undefined) return { os: 'linux', architecture: 'amd64' };
  if (typeof platform !== 'string') return platform;
  const [os, architecture, variant] = platform.split('/');
  if (!os || !architecture) throw new Error(`platform must be os/arch[/variant], got ${platform}`);
  return variant ? { os, architecture, variant } : { os, architecture };
}

/** Deterministic, incompressible bytes: AES-CTR keystream keyed by the seed (fast for MBs). */
export function seededBytes(seed: string, size: number): Buffer {
  const key = createHash('sha256').update(seed).digest();
  const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  return Buffer.concat([cipher.update(Buffer.alloc(size)), cipher.final()]);
}

/** A gzip'd tar holding one file of `size` seeded bytes. */
export function makeLayer(seed: string, size = 1024): Layer {
  const name = `rc-testkit/${createHash('sha256').update(seed).digest('hex').slice(0, 16)}.bin`;
  const tar = tarArchive([{ name, data: seededBytes(seed, size) }]);
  const data = gzipSync(tar);
  return { digest: sha256Digest(data), data, diffId: sha256Digest(tar) };
}

/** A layer from gzip'd tar bytes made elsewhere; the diff_id comes from gunzipping them. */
export function layerFromBlob(gzippedTar: Buffer): Layer {
  return { digest: sha256Digest(gzippedTar), data: gzippedTar, diffId: sha256Digest(gunzipSync(gzippedTar)) };
}

function toBlob(json: unknown): Blob {
  const data = Buffer.from(JSON.stringify(json, null, 2));
  return { digest: sha256Digest(data), data };
}

export function makeImage(options: MakeImageOptions): Image {
  const flavor = options.mediaType ?? 'docker';
  const platform = parsePlatform(options.platform);
  const spec = options.layers ?? 1;
  const layers =
    typeof spec === 'number'
      ? Array.from({ length: spec }, (_, i) => makeLayer(`${options.seed}/layer-${i}`, options.layerSize))
      : spec.map((layer) => (Buffer.isBuffer(layer) ? layerFromBlob(layer) : layer));

  const config = toBlob({
    architecture: platform.architecture,
    os: platform.os,
    ...(platform.variant ? { variant: platform.variant } : {}),
    created: CREATED,
    // The seed label keeps images distinct even when they share every layer.
    config: { Labels: { 'dev.registry-clean.testkit.seed': options.seed } },
    rootfs: { type: 'layers', diff_ids: layers.map((layer) => layer.diffId) },
    history: layers.map((_, i) => ({ created: CREATED, created_by: `registry-clean testkit: ${options.seed} layer ${i}` })),
  });

  const docker = flavor === 'docker';
  const mediaType = docker ? MediaType.dockerManifest : MediaType.ociManifest;
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType,
    config: { mediaType: docker ? MediaType.dockerConfig : MediaType.ociConfig, size: config.data.length, digest: config.digest },
    layers: layers.map((layer) => ({
      mediaType: docker ? MediaType.dockerLayer : MediaType.ociLayer,
      size: layer.data.length,
      digest: layer.digest,
    })),
  };
  const { data: bytes, digest } = toBlob(manifest);
  return { kind: 'image', mediaType, manifest, bytes, digest, platform, config, layers, blobs: [config, ...layers] };
}

/** A Docker manifest list or OCI index over `images`, each listed with its platform. */
export function makeIndex(images: Image[], flavor: ManifestFlavor = 'docker'): Index {
  const mediaType = flavor === 'docker' ? MediaType.dockerManifestList : MediaType.ociIndex;
  const manifest: IndexManifest = {
    schemaVersion: 2,
    mediaType,
    manifests: images.map((image) => ({
      mediaType: image.mediaType,
      size: image.bytes.length,
      digest: image.digest,
      platform: image.platform,
    })),
  };
  const { data: bytes, digest } = toBlob(manifest);
  return { kind: 'index', mediaType, manifest, bytes, digest, images };
}
