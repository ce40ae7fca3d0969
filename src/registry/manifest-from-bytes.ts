import type { ManifestHead, ManifestJson } from './client.js';
import { MediaType } from './media-types.js';

/** The usual media types as one shared string each, not a copy per manifest (100,000 of them at scale). */
const known = new Map<string, string>(Object.values(MediaType).map((type) => [type, type]));

/**
 * What a manifest's own bytes say about it, for a manifest read from storage instead of served
 * (no Content-Type header). The registry serves a stored manifest's `mediaType` field; OCI makes
 * that field optional, so an index is also recognised by its `manifests` list.
 */
export function manifestFromBytes(digest: string, text: string): { head: ManifestHead; json: ManifestJson } {
  const json = JSON.parse(text) as ManifestJson & { schemaVersion?: number };
  const mediaType =
    typeof json.mediaType === 'string' && json.mediaType !== ''
      ? known.get(json.mediaType) ?? json.mediaType
      : Array.isArray(json.manifests)
        ? MediaType.ociIndex
        : json.schemaVersion === 1
          ? MediaType.dockerSchema1Signed
          : MediaType.ociManifest;
  return { head: { digest, mediaType, size: Buffer.byteLength(text) }, json };
}
