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
  /** Removes a file or directory tree. Must refuse any path outside the storage root. */
  remove(path: string): Promise<void>;
  /** Runs the registry's garbage collection. */
  garbageCollect(options: GcOptions, io: CommandIO): Promise<GcRun>;
  /** Restarts the registry; undefined when this backend has no way to (no restart command). */
  restart?: (io: CommandIO) => Promise<void>;
  /** Why restart is unavailable, for the warning shown instead. */
  readonly restartUnavailable?: string;
  /** Releases what the backend holds (connections, processes). */
  close?(): Promise<void>;
}

export interface StorageEntry {
  name: string;
  directory: boolean;
}

export interface GcOptions {
  deleteUntagged: boolean;
  dryRun: boolean;
}

export interface GcRun {
  /** The command's exit code was 0, or it failed only because there is nothing to collect. */
  ok: boolean;
  /** True when GC failed because the registry has no repositories at all (not an error). */
  emptyRegistry: boolean;
  /** Blobs GC marked for deletion (from its output). */
  blobsDeleted: number;
  /** Manifests GC deleted (with deleteUntagged). */
  manifestsDeleted: number;
  output: string;
  command: string[];
}

/** Where a backend's long-running commands report lines, and how they are cancelled. */
export interface CommandIO {
  onLine?: (line: string) => void;
  signal?: AbortSignal;
}
