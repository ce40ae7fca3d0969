import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';

/** Every file and directory below `root` with a hash of its content: equal snapshots mean byte-identical storage. */
export function snapshotStorage(root: string): Map<string, string> {
  const result = new Map<string, string>();
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      const relative = path.relative(root, full);
      if (entry.isDirectory()) {
        result.set(`${relative}/`, 'dir');
        walk(full);
      } else {
        result.set(relative, createHash('sha256').update(readFileSync(full)).digest('hex'));
      }
    }
  };
  walk(root);
  return result;
}

/** Whether the registry still stores a blob's data. */
export function blobStored(storageRoot: string, digest: string): boolean {
  const hex = digest.replace(/^sha256:/, '');
  return existsSync(path.join(storageRoot, 'docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex, 'data'));
}

export function repositoryDir(storageRoot: string, repository: string): string {
  return path.join(storageRoot, 'docker/registry/v2/repositories', repository);
}
