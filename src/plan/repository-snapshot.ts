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
  /**
   * The repository as its storage showed it right after the tag list, read by the check step
   * while other tag lists were on their way; the resolve step takes it once the storage is
   * proven the registry's own, and drops it.
   */
  stored?: StorageView;
}

/** A repository as its storage shows it, read after its tag list (see `readStorageView`). */
export interface StorageView {
  /** Each listed tag's manifest, where the registry would serve one. */
  heads: Map<string, ManifestHead>;
  /** Child manifest digest → the index digests that reference it. */
  indexChildren: Map<string, string[]>;
  /** How storage and the tag list disagree, if they do: then nothing in the repository is changed. */
  disagreement: string | undefined;
}

export function repositoryKey(registry: string, repository: string): string {
  return `${registry}/${repository}`;
}
