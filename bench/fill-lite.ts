import { mapConcurrent } from '../testkit/concurrency.js';
import { sha256Digest } from '../testkit/http.js';
import { type Image, type Layer, makeImage, makeLayer, pushBlob, pushManifest, type FillResult } from '../testkit/images.js';

const pad = (n: number): string => String(n).padStart(3, '0');

/** What the lite fills write: the same names, blobs and manifest bytes over the API or into storage. */
export interface LitePlan {
  repositories: string[];
  /** Every tag, repository-major, in name order. */
  work: Array<{ repository: string; tag: string }>;
  base: Layer;
  /** An OCI image manifest over one config and the base layer: its blobs are every repository's blobs. */
  template: Image;
}

export function litePlan(options: { repositories: number; tagsPerRepository: number; seed: string }): LitePlan {
  const repositories = Array.from({ length: options.repositories }, (_, i) => `fill/repo-${pad(i)}`);
  const base = makeLayer(`${options.seed}/base`, 2048);
  const template = makeImage({ seed: `${options.seed}/template`, layers: [base], mediaType: 'oci' });
  const work = repositories.flatMap((repository) => Array.from({ length: options.tagsPerRepository }, (_, j) => ({ repository, tag: `tag-${pad(j)}` })));
  return { repositories, work, base, template };
}

/** The manifest bytes of one tag: the template with an annotation naming `repository:tag`. */
export function liteManifest(plan: LitePlan, repository: string, tag: string): { bytes: Buffer; digest: string } {
  const bytes = Buffer.from(JSON.stringify({ ...plan.template.manifest, annotations: { 'dev.registry-clean.bench.image': `${repository}:${tag}` } }));
  return { bytes, digest: sha256Digest(bytes) };
}

/**
 * A faster fill for the growth pass at large sizes: per repository, one config and one layer
 * blob, then one manifest PUT per tag. Each manifest is an OCI image manifest over those
 * blobs with an annotation naming its tag, so every tag is a distinct image (its own digest)
 * as far as tags/list, HEAD and DELETE are concerned: 1 request per image instead of ~8.
 * Not used for the main measurement (skopeo, GC and the seed script see full images there).
 */
export async function fillRegistryLite(registryUrl: string, options: { repositories: number; tagsPerRepository: number; concurrency: number; seed: string }): Promise<FillResult> {
  const plan = litePlan(options);
  const { template } = plan;
  await mapConcurrent(plan.repositories, options.concurrency, async (repository) => {
    for (const blob of template.blobs) await pushBlob(registryUrl, repository, blob);
  });
  const images = await mapConcurrent(plan.work, options.concurrency, async ({ repository, tag }) => {
    const { bytes, digest } = liteManifest(plan, repository, tag);
    await pushManifest(registryUrl, repository, tag, { mediaType: template.mediaType, bytes, digest });
    return { repository, tag, digest };
  });
  return { repositories: plan.repositories, images, baseLayer: plan.base };
}
