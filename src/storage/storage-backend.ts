/**
 * A storage backend: the few primitives `rc` needs from wherever the registry keeps its data
 * (a local directory, a container, a pod). Paths are relative to the registry's storage root
 * (the filesystem driver's `rootdirectory`), `/`-separated. What those paths *mean* — tags,
 * repositories, nesting — is coded once in `RegistryStorage`, never in a backend.
 */
export interface StorageBackend {
  /** Shown to users: `filesystem /data/registry`, `docker container registry`. */
  readonly description: string;
  /** Entries of a directory, or null when it does not exist. */
  list(path: string): Promise<StorageEntry[] | null>;
  /** A small file's text (link files), or null when it does not exist. */
  readText(path: string): Promise<string | null>;
  /** Several small files in one go, where the backend can batch (one `exec` instead of hundreds). */
  readTexts?(paths: string[]): Promise<Array<string | null>>;
  /** Removes a file or directory tree; nothing when it is absent. Must refuse any path outside the storage root. */
  remove(path: string): Promise<void>;
  /**
   * Removes directory trees as `remove` does, in a process of its own where the backend can
   * (`rm -rf`): for the thousands of tiny directories a deletion sets aside, which would
   * otherwise take CPU from the requests in flight. Optional: `remove` is used without it.
   */
  removeInBackground?(paths: string[]): Promise<void>;
  /**
   * Removes a directory only if it is empty, atomically (`rmdir`): a push that lands between a
   * check and a recursive remove must never be destroyed. False when it is not empty or absent.
   */
  removeEmptyDirectory(path: string): Promise<boolean>;
  /**
   * Renames `from` to `to` (one atomic `rename`, on the same filesystem), creating `to`'s parent
   * directories. False when `from` does not exist or `to` already does. Optional: without it, a
   * DELETE by digest leaves the registry to find and remove the deleted manifest's tags itself.
   */
  move?(from: string, to: string): Promise<boolean>;
  /** Regular files below a directory and their total size: how much GC freed. */
  measure?(path: string): Promise<StorageUsage>;
  /** Releases what the backend holds (connections, processes). */
  close?(): Promise<void>;
}

export interface StorageEntry {
  name: string;
  directory: boolean;
}

export interface StorageUsage {
  files: number;
  bytes: number;
}
