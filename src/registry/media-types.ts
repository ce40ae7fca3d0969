/**
 * Manifest media types. Every manifest request sends all four: with fewer, distribution
 * answers 404 for OCI content, substitutes the linux/amd64 child for a manifest list
 * (deleting that digest breaks the multi-arch tag), or converts to schema1 on 2.8.
 */
export const MediaType = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  /** Legacy schema 1 (signed): never asked for, but a 2.8 registry may still hold some. */
  dockerSchema1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
} as const;

export const manifestAccept = [
  MediaType.ociIndex,
  MediaType.ociManifest,
  MediaType.dockerManifestList,
  MediaType.dockerManifest,
].join(', ');

/** True for a multi-arch index (OCI image index or Docker manifest list). */
export function isIndexMediaType(mediaType: string | undefined): boolean {
  const bare = mediaType?.split(';')[0]?.trim();
  return bare === MediaType.ociIndex || bare === MediaType.dockerManifestList;
}
