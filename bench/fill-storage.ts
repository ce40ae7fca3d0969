import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { mapConcurrent } from '../testkit/concurrency.js';
import { call, sha256Digest, v2Url } from '../testkit/http.js';
import type { FillResult, FilledImage } from '../testkit/images.js';
import { MANIFEST_ACCEPT, MediaType } from '../testkit/media-types.js';
import type { RegistryServer } from '../testkit/registry-server.js';
import { liteManifest, litePlan } from './fill-lite.js';

const exec = promisify(execFile);

/** Files and directory chains written at once: enough to keep libuv's 4 fs threads busy. */
const WRITES_IN_FLIGHT = 32;

async function runArgv(argv: readonly string[]): Promise<void> {
  const [command, ...args] = argv;
  await exec(command!, args);
}

/** mkdir of one level whose parent exists; an existing directory is fine (the registry's MkdirAll does the same). */
async function dir(target: string): Promise<void> {
  try {
    await mkdir(target);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
}

/** `sha256:<hex>` → `<hex>` */
const hex = (digest: string): string => digest.slice('sha256:'.length);

/**
 * The storage fill for the growth pass at 100,000 tags: what `fillRegistryLite` pushes (the same
 * repositories, tags, blobs and manifest bytes), written straight into the registry's own
 * filesystem layout (distribution 2.8, `docker/registry/v2` under the storage root) while the
 * registry is stopped, then the registry started again. Per blob `blobs/sha256/<2 hex>/<hex>/data`;
 * per repository a `_layers` link for the config and the layer and an empty `_uploads` (which the
 * API's blob uploads leave behind); per tag a `_manifests/revisions` link, and the tag's
 * `current/link` and `index/sha256/<hex>/link`. A link file holds `sha256:<hex>`, no newline.
 * Check the result with `verifyStorageFill`.
 */
export async function fillRegistryStorage(registry: RegistryServer, options: { repositories: number; tagsPerRepository: number; seed: string }): Promise<FillResult> {
  const plan = litePlan(options);
  const blobsRoot = path.join(registry.storageRoot, 'docker', 'registry', 'v2', 'blobs', 'sha256');
  const repositoriesRoot = path.join(registry.storageRoot, 'docker', 'registry', 'v2', 'repositories');
  const images: FilledImage[] = [];
  const manifests: Buffer[] = [];
  for (const { repository, tag } of plan.work) {
    const { bytes, digest } = liteManifest(plan, repository, tag);
    images.push({ repository, tag, digest });
    manifests.push(bytes);
  }

  await runArgv(registry.stopCommand);
  try {
    await mkdir(blobsRoot, { recursive: true });
    await mkdir(repositoriesRoot, { recursive: true });
    const blobs = [...plan.template.blobs.map((b) => ({ digest: b.digest, data: b.data })), ...images.map((image, i) => ({ digest: image.digest, data: manifests[i]! }))];
    await Promise.all([...new Set(blobs.map((b) => hex(b.digest).slice(0, 2)))].map((prefix) => dir(path.join(blobsRoot, prefix))));
    await mapConcurrent(blobs, WRITES_IN_FLIGHT, async ({ digest, data }) => {
      const blobDir = path.join(blobsRoot, hex(digest).slice(0, 2), hex(digest));
      await dir(blobDir);
      await writeFile(path.join(blobDir, 'data'), data);
    });

    // Repository skeletons: parents (the `fill` namespace) first, then each repository's fixed directories and layer links.
    for (const parent of new Set(plan.repositories.map((r) => path.dirname(r)))) await mkdir(path.join(repositoriesRoot, parent), { recursive: true });
    await mapConcurrent(plan.repositories, WRITES_IN_FLIGHT, async (repository) => {
      const root = path.join(repositoriesRoot, repository);
      await dir(root);
      await Promise.all([dir(path.join(root, '_layers')), dir(path.join(root, '_manifests')), dir(path.join(root, '_uploads'))]);
      await Promise.all([
        dir(path.join(root, '_layers', 'sha256')),
        dir(path.join(root, '_manifests', 'revisions')).then(() => dir(path.join(root, '_manifests', 'revisions', 'sha256'))),
        dir(path.join(root, '_manifests', 'tags')),
      ]);
      await Promise.all(
        plan.template.blobs.map(async (blob) => {
          const linkDir = path.join(root, '_layers', 'sha256', hex(blob.digest));
          await dir(linkDir);
          await writeFile(path.join(linkDir, 'link'), blob.digest);
        }),
      );
    });

    // Per tag: the revision link, then the tag's current link and index entry.
    await mapConcurrent(images, WRITES_IN_FLIGHT, async ({ repository, tag, digest }) => {
      const root = path.join(repositoriesRoot, repository, '_manifests');
      const revision = path.join(root, 'revisions', 'sha256', hex(digest));
      const tagDir = path.join(root, 'tags', tag);
      const indexDir = path.join(tagDir, 'index', 'sha256', hex(digest));
      await Promise.all([
        dir(revision).then(() => writeFile(path.join(revision, 'link'), digest)),
        (async () => {
          await dir(tagDir);
          await Promise.all([
            dir(path.join(tagDir, 'current')).then(() => writeFile(path.join(tagDir, 'current', 'link'), digest)),
            (async () => {
              await dir(path.join(tagDir, 'index'));
              await dir(path.join(tagDir, 'index', 'sha256'));
              await dir(indexDir);
              await writeFile(path.join(indexDir, 'link'), digest);
            })(),
          ]);
        })(),
      ]);
    });
  } finally {
    await runArgv(registry.startCommand);
    await registry.waitUntilReady(60_000);
  }
  return { repositories: plan.repositories, images, baseLayer: plan.base };
}

export interface StorageFillCheck {
  /** Repositories the catalog listed (all pages). */
  catalog: number;
  catalogPages: number;
  /** Repositories whose tags/list was compared. */
  tagLists: number;
  /** Tags whose HEAD digest was compared. */
  heads: number;
  /** Manifests fetched and hashed. */
  gets: number;
  /** The image deleted by digest, when `deleteOne`. */
  deleted?: FilledImage;
}

/** `count` items spread evenly over `items`, first and last included. */
function sample<T>(items: readonly T[], count: number): T[] {
  if (count >= items.length) return [...items];
  if (count <= 1) return items.slice(0, Math.max(0, count));
  return Array.from({ length: count }, (_, i) => items[Math.round((i * (items.length - 1)) / (count - 1))]!);
}

/**
 * Checks through the API that the registry serves what `fill` says it holds: the catalog (all of
 * it, `n=1000` pages following Link) is exactly the fill's repositories; for a sample, tags/list
 * is exactly the fill's tags, HEAD of a tag answers 200 with the expected digest and OCI content
 * type, and GET answers bytes hashing to it. With `deleteOne`, one image is deleted by digest
 * (202) and its tag must leave tags/list and answer 404 (this changes the registry). Throws on
 * the first difference.
 */
export async function verifyStorageFill(
  registry: RegistryServer,
  fill: FillResult,
  options: { repositories?: number; heads?: number; gets?: number; deleteOne?: boolean } = {},
): Promise<StorageFillCheck> {
  const expect = (condition: boolean, message: string): void => {
    if (!condition) throw new Error(`storage fill check: ${message}`);
  };
  const byRepository = new Map<string, FilledImage[]>();
  for (const image of fill.images) {
    const list = byRepository.get(image.repository);
    if (list) list.push(image);
    else byRepository.set(image.repository, [image]);
  }

  // The whole catalog, as rc reads it.
  const catalog: string[] = [];
  let pages = 0;
  let next: string | undefined = v2Url(registry.url, '_catalog?n=1000');
  while (next) {
    const response = await call(next);
    expect(response.status === 200, `GET ${next} answered ${response.status}`);
    catalog.push(...((JSON.parse(response.body.toString('utf8')) as { repositories?: string[] }).repositories ?? []));
    pages++;
    const link = /<([^>]+)>;\s*rel="next"/.exec(response.headers.link ?? '');
    next = link ? new URL(link[1]!, registry.url).toString() : undefined;
    expect(pages <= fill.repositories.length / 1000 + 2, `the catalog did not end after ${pages} pages`);
  }
  const want = [...fill.repositories].sort();
  expect(catalog.length === want.length && [...catalog].sort().every((name, i) => name === want[i]), `the catalog lists ${catalog.length} repositories, expected ${want.length} (first: ${catalog.slice(0, 3).join(', ')})`);

  const tagsOf = async (repository: string): Promise<string[]> => {
    const response = await call(v2Url(registry.url, `${repository}/tags/list`));
    expect(response.status === 200, `GET ${repository}/tags/list answered ${response.status}`);
    return ((JSON.parse(response.body.toString('utf8')) as { tags?: string[] | null }).tags ?? []).sort();
  };
  const repositories = sample(fill.repositories, options.repositories ?? 20);
  await mapConcurrent(repositories, 8, async (repository) => {
    const have = await tagsOf(repository);
    const wanted = (byRepository.get(repository) ?? []).map((i) => i.tag).sort();
    expect(have.join(',') === wanted.join(','), `${repository}/tags/list has [${have.slice(0, 4).join(', ')}…] (${have.length}), expected ${wanted.length}`);
  });

  const headed = sample(fill.images, options.heads ?? 200);
  await mapConcurrent(headed, 8, async ({ repository, tag, digest }) => {
    const response = await call(v2Url(registry.url, `${repository}/manifests/${tag}`), { method: 'HEAD', headers: { accept: MANIFEST_ACCEPT } });
    expect(response.status === 200, `HEAD ${repository}:${tag} answered ${response.status}`);
    expect(response.headers['docker-content-digest'] === digest, `HEAD ${repository}:${tag} gave ${response.headers['docker-content-digest']}, expected ${digest}`);
    expect(response.headers['content-type'] === MediaType.ociManifest, `HEAD ${repository}:${tag} gave content type ${response.headers['content-type']}`);
  });

  const fetched = sample(fill.images, options.gets ?? 20);
  await mapConcurrent(fetched, 8, async ({ repository, tag, digest }) => {
    for (const reference of [tag, digest]) {
      const response = await call(v2Url(registry.url, `${repository}/manifests/${reference}`), { headers: { accept: MANIFEST_ACCEPT } });
      expect(response.status === 200, `GET ${repository}/manifests/${reference} answered ${response.status}`);
      expect(sha256Digest(response.body) === digest, `GET ${repository}/manifests/${reference}: bytes hash to ${sha256Digest(response.body)}, expected ${digest}`);
    }
  });

  const result: StorageFillCheck = { catalog: catalog.length, catalogPages: pages, tagLists: repositories.length, heads: headed.length, gets: fetched.length };
  if (options.deleteOne) {
    const victim = fill.images[Math.floor(fill.images.length / 2)]!;
    const response = await call(v2Url(registry.url, `${victim.repository}/manifests/${victim.digest}`), { method: 'DELETE' });
    expect(response.status === 202, `DELETE ${victim.repository}@${victim.digest} answered ${response.status}: ${response.body.toString('utf8').slice(0, 300)}`);
    const have = await tagsOf(victim.repository);
    const wanted = (byRepository.get(victim.repository) ?? []).map((i) => i.tag).filter((t) => t !== victim.tag).sort();
    expect(have.join(',') === wanted.join(','), `after DELETE, ${victim.repository}/tags/list has ${have.length} tags, expected ${wanted.length} without ${victim.tag}`);
    const head = await call(v2Url(registry.url, `${victim.repository}/manifests/${victim.tag}`), { method: 'HEAD', headers: { accept: MANIFEST_ACCEPT } });
    expect(head.status === 404, `after DELETE, HEAD ${victim.repository}:${victim.tag} answered ${head.status}`);
    result.deleted = victim;
  }
  return result;
}
