import { mapConcurrent } from '../testkit/concurrency.js';
import { sha256Digest } from '../testkit/http.js';
import { makeImage, makeLayer, pushBlob, pushManifest, type FillResult } from '../testkit/images.js';

/**
 * A faster fill for the growth pass at large sizes: per repository, one config and one layer
 * blob, then one manifest PUT per tag. Each manifest is an OCI image manifest over those
 * blobs with an annotation naming its tag, so every tag is a distinct image (its own digest)
 * as far as tags/list, HEAD and DELETE are concerned: 1 request per image instead of ~8.
 * Not used for the main measurement (skopeo, GC and the seed script see full images there).
 */
export async function fillRegistryLite(registryUrl: string, options: { repositories: number; tagsPerRepository: number; concurrency: number; seed: string }): Promise<FillResult> {
  const pad = (n: number): string => String(n).padStart(3, '0');
  const repositories = Array.from({ length: options.repositories }, (_, i) => `fill/repo-${pad(i)}`);
  const base = makeLayer(`${options.seed}/base`, 2048);
  const template = makeImage({ seed: `${options.seed}/template`, layers: [base], mediaType: 'oci' });
  await mapConcurrent(repositories, options.concurrency, async (repository) => {
    for (const blob of template.blobs) await pushBlob(registryUrl, repository, blob);
  });
  const work = repositories.flatMap((repository) => Array.from({ length: options.tagsPerRepository }, (_, j) => ({ repository, tag: `tag-${pad(j)}` })));
  const images = await mapConcurrent(work, options.concurrency, async ({ repository, tag }) => {
    const bytes = Buffer.from(JSON.stringify({ ...template.manifest, annotations: { 'dev.registry-clean.bench.image': `${repository}:${tag}` } }));
    const digest = sha256Digest(bytes);
    await pushManifest(registryUrl, repository, tag, { mediaType: template.mediaType, bytes, digest });
    return { repository, tag, digest };
  });
  return { repositories, images, baseLayer: base };
}
