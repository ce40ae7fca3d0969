import type { ManifestHead } from '../registry/client.js';

/** One repository as the registry showed it before anything was deleted. */
export interface RepositorySnapshot {
  registry: string;
  name: string;
  /** The tags `tags/list` answered with; null when the registry does not know the repository. */
  tagList: string[] | null;
  /** Every tag with its manifest (filled for repositories with something to delete); null when the repository is unknown. */
  tags: Map<string, ManifestHead> | null;
  /** Child manifest digest → the index digests that reference it (multi-arch images). */
  indexChildren: Map<string, string[]>;
}

export function repositoryKey(registry: string, repository: string): string {
  return `${registry}/${repository}`;
}
