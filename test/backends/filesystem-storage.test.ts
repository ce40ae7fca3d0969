import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { filesystemStorage } from '../../src/storage/backends/filesystem.js';

describe('filesystem storage backend', () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const setup = () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'rc-fs-storage-'));
    const root = path.join(dir, 'storage');
    mkdirSync(path.join(root, 'repo', 'current'), { recursive: true });
    writeFileSync(path.join(dir, 'outside'), 'keep me');
    return { root, storage: filesystemStorage(root) };
  };

  it('reads small and large files whole, and a missing one as null', async () => {
    const { root, storage } = setup();
    const link = `sha256:${'a'.repeat(64)}`;
    // Larger than the buffer small reads share: must still come back whole.
    const manifest = JSON.stringify({ schemaVersion: 2, annotations: { big: 'é'.repeat(70_000) } });
    writeFileSync(path.join(root, 'repo', 'current', 'link'), link);
    writeFileSync(path.join(root, 'repo', 'manifest'), manifest);
    // Exactly the buffer's size: it fills the buffer, so it is read again whole.
    const exact = 'x'.repeat(64 * 1024);
    writeFileSync(path.join(root, 'repo', 'exact'), exact);
    const texts = await storage.readTexts!(['repo/current/link', 'repo/manifest', 'repo/missing', 'repo/exact', 'repo/current/link']);
    expect(texts).toEqual([link, manifest, null, exact, link]);
  });

  it('refuses any path that could leave the storage root, and touches nothing outside it', async () => {
    const { storage } = setup();
    // An absolute path names the same file outside the root: were it followed, the test would see it gone.
    for (const unsafe of ['../outside', 'repo/../../outside', path.join(dir, 'outside'), '', '.', 'repo/..', 'repo//current']) {
      await expect(storage.remove(unsafe), unsafe).rejects.toThrow(/is not a path inside the storage root/);
      await expect(storage.readTexts!([unsafe]), unsafe).rejects.toThrow(/is not a path inside the storage root/);
    }
    expect(existsSync(path.join(dir, 'outside'))).toBe(true);
    expect(existsSync(path.join(dir, 'storage', 'repo', 'current'))).toBe(true);
  });
});
