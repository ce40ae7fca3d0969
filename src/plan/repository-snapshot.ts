import type { ManifestHead } from '../registry/client.js';

/** One repository as the registry showed it before anything was deleted. */
export interface RepositorySnapshot {
  registry: string;
  name: string;
  /** The tag names `tags/list` answered with; null when the registry does not know the repository. */
  tags: string[] | null;
  /** Each tag's manifest, resolved for repositories with something to delete (a tag missing here vanished meanwhile). */
  heads: Map<string, ManifestHead>;
  /** Child manifest digest → the index digests that reference it (multi-arch images). */
  indexChildren: Map<string, string[]>;
}

export function repositoryKey(registry: string, repository: string): string {
  return `${registry}/${repository}`;
}
