import { describe, expect, it } from 'vitest';
import { parseImageReference } from '../../src/list/image-reference.js';
import type { ImageOutcome } from '../../src/plan/image-outcome.js';
import { planRepository, type TagRemoval } from '../../src/plan/plan-repository.js';
import type { RepositorySnapshot } from '../../src/plan/repository-snapshot.js';

const d = (n: number) => `sha256:${String(n).repeat(64).slice(0, 64)}`;
const manifest = 'application/vnd.docker.distribution.manifest.v2+json';
const index = 'application/vnd.oci.image.index.v1+json';

function snapshot(tags: Record<string, number>, children: Record<number, number[]> = {}, indexes: number[] = []): RepositorySnapshot {
  return {
    registry: 'r.example:5000',
    name: 'app',
    tags: Object.keys(tags),
    heads: new Map(Object.entries(tags).map(([tag, n]) => [tag, { digest: d(n), mediaType: indexes.includes(n) ? index : manifest, size: 1 }])),
    indexChildren: new Map(
      Object.entries(children).flatMap(([parent, kids]) => kids.map((kid) => [d(kid), [d(Number(parent))]] as [string, string[]])),
    ),
  };
}

function listed(...refs: string[]): ImageOutcome[] {
  return refs.map((text, i) => {
    const ref = parseImageReference(`r.example:5000/app${text}`);
    return { image: ref.text, ref, source: { file: 'list', line: i + 1 }, status: 'pending', ...(ref.digest && { digest: ref.digest }) };
  });
}

const storage: TagRemoval = { tagDelete: false, storage: true };

describe('planning deletions', () => {
  it('deletes by digest with one request when every tag on the digest is listed', () => {
    const images = listed(':a', ':b');
    const plan = planRepository(snapshot({ a: 1, b: 1, c: 2 }), images, storage);
    expect(plan.actions).toHaveLength(1);
    expect(plan.actions[0]).toMatchObject({ kind: 'delete-manifest', digest: d(1), tags: ['a', 'b'] });
    expect(images.map((i) => i.method)).toEqual(['manifest-delete', 'manifest-delete']);
  });

  it('removes only the listed tag when another tag shares its digest, and names the kept one', () => {
    const images = listed(':1.26');
    const plan = planRepository(snapshot({ '1.26': 1, stable: 1 }), images, storage);
    expect(plan.actions).toEqual([expect.objectContaining({ kind: 'remove-tag', tag: '1.26', method: 'storage-tag-remove', keptTags: ['stable'] })]);
    expect(images[0]?.keptTags).toEqual(['stable']);
  });

  it('prefers the registry\'s tag delete, then storage, then a throwaway manifest', () => {
    const method = (removal: TagRemoval) => {
      const plan = planRepository(snapshot({ a: 1, b: 1 }), listed(':a'), removal);
      return plan.actions[0]?.kind === 'remove-tag' ? plan.actions[0].method : undefined;
    };
    expect(method({ tagDelete: true, storage: true })).toBe('tag-delete');
    expect(method({ tagDelete: false, storage: true })).toBe('storage-tag-remove');
    expect(method({ tagDelete: false, storage: false })).toBe('throwaway-manifest');
  });

  it('never deletes by digest a manifest that a kept multi-arch index uses', () => {
    const images = listed(':amd64');
    const plan = planRepository(snapshot({ latest: 9, amd64: 1 }, { 9: [1, 2] }, [9]), images, storage);
    expect(plan.actions).toEqual([expect.objectContaining({ kind: 'remove-tag', tag: 'amd64' })]);
  });

  it('deletes a platform manifest by digest once its index is deleted too', () => {
    const images = listed(':latest', ':amd64');
    const plan = planRepository(snapshot({ latest: 9, amd64: 1 }, { 9: [1, 2] }, [9]), images, storage);
    expect(plan.actions.map((a) => a.kind)).toEqual(['delete-manifest', 'delete-manifest']);
  });

  it('refuses a digest reference to a platform image of a kept index', () => {
    const images = listed(`@${d(2)}`);
    const plan = planRepository(snapshot({ latest: 9 }, { 9: [1, 2] }, [9]), images, storage);
    expect(plan.actions).toEqual([]);
    expect(images[0]).toMatchObject({ status: 'failed', reason: expect.stringContaining('multi-arch index latest') });
  });

  it('a digest reference deletes the manifest and reports every tag on it', () => {
    const images = listed(`@${d(1)}`);
    const plan = planRepository(snapshot({ x: 1, y: 1, z: 2 }), images, storage);
    expect(plan.actions).toEqual([expect.objectContaining({ kind: 'delete-manifest', digest: d(1), tags: ['x', 'y'] })]);
    expect(images[0]?.removedTags).toEqual(['x', 'y']);
  });

  it('a tag and its digest both listed make one request', () => {
    const images = listed(':x', `@${d(1)}`);
    const plan = planRepository(snapshot({ x: 1, z: 2 }), images, storage);
    expect(plan.actions).toHaveLength(1);
    expect(images.every((i) => i.method === 'manifest-delete')).toBe(true);
  });

  it('marks missing tags and unknown repositories absent', () => {
    const images = listed(':gone');
    planRepository(snapshot({ a: 1 }), images, storage);
    expect(images[0]).toMatchObject({ status: 'absent', reason: 'tag gone does not exist' });
    const unknown = listed(':a');
    planRepository({ ...snapshot({}), tags: null }, unknown, storage);
    expect(unknown[0]).toMatchObject({ status: 'absent' });
  });

  it('warns when deleting an image leaves its signature tags behind', () => {
    const sig = `${d(1).replace(':', '-')}.sig`;
    const plan = planRepository(snapshot({ a: 1, [sig]: 3 }), listed(':a'), storage);
    expect(plan.warnings).toEqual([expect.stringContaining(`${sig} hold signatures or attestations`)]);
  });
});
