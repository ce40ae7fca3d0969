import { mapLimit } from '../util/map-limit.js';
import type { StorageBackend, StorageUsage } from './storage-backend.js';

/** The filesystem driver's layout below its root directory (the same inside a container). */
const v2 = 'docker/registry/v2';
const repositoriesDir = `${v2}/repositories`;
/**
 * Where a deletion moves the tags of the manifests it is about to delete (see
 * `pipeline/tags-set-aside.ts`): beside `repositories/`, where neither the registry (its catalog,
 * tag lists and GC) nor a pull ever looks. One directory a run, `<run>/<repository:tag>` in it,
 * URI-encoded into one name (`team%2Fapp%3Av1`): creating directories is what costs here.
 */
const setAsideDir = `${v2}/rc-tags-set-aside`;

/** The parts of a repository directory that make it a repository (2.8 lists a directory with `_manifests` or `_layers`). */
const repositoryParts = ['_manifests', '_layers', '_uploads'] as const;

const safeSegment = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

export interface RepositoryContents {
  exists: boolean;
  /** Has `_manifests`: something was pushed to it completely at least once (a first push in flight has only `_layers`). */
  hasManifests: boolean;
  /** Tag directories under `_manifests/tags/`. */
  tags: string[];
  /** Uploads (`_uploads/<id>`) with when they started, if the registry recorded it. */
  uploads: Array<{ id: string; startedAt: Date | undefined }>;
  /** Child directories that are not repository parts: nested repositories (`team/app` under `team`). */
  nested: string[];
  /** Anything else found in the directory (unexpected files): never removed. */
  other: string[];
}

/**
 * The registry's storage layout, coded once on top of a backend's primitives: where a tag
 * lives, what an emptied repository is, and how to remove one without touching nested
 * repositories. Every path is built here from validated names and checked segment by segment.
 */
export class RegistryStorage {
  constructor(
    private readonly backend: StorageBackend,
    private readonly concurrency = 16,
  ) {}

  get description(): string {
    return this.backend.description;
  }

  /** Blob files and bytes (`blobs/`), when the backend can measure: how much GC freed. */
  async blobUsage(): Promise<StorageUsage | undefined> {
    return this.backend.measure?.(`${v2}/blobs`);
  }

  /**
   * Removes a throwaway repository an upload probe created (`_uploads/<id>`), and its
   * directories if they are left empty; a real repository of that name keeps everything else.
   */
  async removeProbe(repository: string, id: string): Promise<void> {
    await this.removeUpload(repository, id, true);
    await this.backend.removeEmptyDirectory(repoPath(repository));
  }

  async close(): Promise<void> {
    await this.backend.close?.();
  }

  /** Tag → digest for every tag of a repository, read from `_manifests/tags/<tag>/current/link`; null if the repository is not in storage. */
  async tagDigests(repository: string): Promise<Map<string, string> | null> {
    const tagsDir = repoPath(repository, '_manifests', 'tags');
    const entries = await this.backend.list(tagsDir);
    if (entries === null) return (await this.backend.list(repoPath(repository))) === null ? null : new Map();
    const tags = entries.filter((e) => e.directory).map((e) => e.name);
    const links = await this.readMany(tags.map((tag) => join(tagsDir, checkSegment(tag), 'current', 'link')));
    const result = new Map<string, string>();
    tags.forEach((tag, i) => {
      const digest = links[i]?.trim();
      if (digest) result.set(tag, digest);
    });
    return result;
  }

  /**
   * Manifests of a repository as the registry would serve them, read from storage: a digest
   * counts only when the repository links it (`_manifests/revisions/<algorithm>/<hex>/link`) and
   * its bytes are in the blob store, as the registry itself checks; otherwise it maps to null
   * (the registry answers 404). Read in one batch.
   */
  async manifests(repository: string, digests: readonly string[]): Promise<Map<string, string | null>> {
    const paths = digests.flatMap((digest) => {
      const [algorithm, hex] = splitDigest(digest);
      return [revisionLink(repository, digest), join(v2, 'blobs', algorithm, hex.slice(0, 2), hex, 'data')];
    });
    const texts = await this.readMany(paths);
    const result = new Map<string, string | null>();
    digests.forEach((digest, i) => {
      const linked = texts[2 * i]?.trim() === digest;
      result.set(digest, linked ? (texts[2 * i + 1] ?? null) : null);
    });
    return result;
  }

  /** True when an upload session with this id is in the repository's `_uploads`. */
  async hasUpload(repository: string, id: string): Promise<boolean> {
    return (await this.backend.list(repoPath(repository, '_uploads', id))) !== null;
  }

  /** Whether the repository has an `_uploads` directory at all. */
  async hasUploadsDirectory(repository: string): Promise<boolean> {
    return (await this.backend.list(repoPath(repository, '_uploads'))) !== null;
  }

  /**
   * Removes what a cancelled upload of ours leaves (2.8 keeps `_uploads/<id>/hashstates`), and
   * the `_uploads` directory too when it was not there before.
   */
  async removeUpload(repository: string, id: string, removeEmptyUploadsDirectory: boolean): Promise<void> {
    await this.backend.remove(repoPath(repository, '_uploads', id));
    if (removeEmptyUploadsDirectory) await this.backend.removeEmptyDirectory(repoPath(repository, '_uploads'));
  }

  /** Removes one tag the way distribution 3.x does: its `_manifests/tags/<tag>/` directory. The image and its other tags stay. */
  async removeTag(repository: string, tag: string): Promise<void> {
    await this.backend.remove(repoPath(repository, '_manifests', 'tags', checkSegment(tag)));
  }

  /** Whether this storage can set tags aside (its backend renames). */
  get canSetTagsAside(): boolean {
    return this.backend.move !== undefined;
  }

  /** Moves a tag's directory out of its repository into the run's; false if the tag is not there. */
  async setTagAside(run: string, repository: string, tag: string): Promise<boolean> {
    return this.move(repoPath(repository, '_manifests', 'tags', checkSegment(tag)), asidePath(run, repository, tag));
  }

  /** Moves a tag set aside back into its repository; false when a tag of that name is there again (a push since). */
  async putTagBack(run: string, repository: string, tag: string): Promise<boolean> {
    return this.move(asidePath(run, repository, tag), repoPath(repository, '_manifests', 'tags', checkSegment(tag)));
  }

  /** The digest a tag set aside pointed to (its `current/link`), if it has one. */
  async setAsideTagDigest(run: string, repository: string, tag: string): Promise<string | undefined> {
    return (await this.backend.readText(`${asidePath(run, repository, tag)}/current/link`))?.trim() || undefined;
  }

  /** Whether the repository still links the manifest (`_manifests/revisions/…/link`): the registry still serves it by digest. */
  async manifestLinked(repository: string, digest: string): Promise<boolean> {
    if (!digestPattern.test(digest)) return false;
    return (await this.backend.readText(revisionLink(repository, digest)))?.trim() === digest;
  }

  /** Removes tags set aside (in a process of its own where the backend can: thousands of tiny directories). */
  async discardSetAside(run: string, tags: ReadonlyArray<{ repository: string; tag: string }>): Promise<void> {
    const paths = tags.map(({ repository, tag }) => asidePath(run, repository, tag));
    if (this.backend.removeInBackground) await this.backend.removeInBackground(paths);
    else await mapLimit(paths, this.concurrency, (path) => this.backend.remove(path));
  }

  /** Where a run keeps the tags it set aside, for messages: `docker/registry/v2/rc-tags-set-aside/<run>`. */
  setAsideLocation(run: string): string {
    return runDir(run);
  }

  /** Removes a run's directory of tags set aside, and the one above it, where they are empty. */
  async removeSetAsideRun(run: string): Promise<void> {
    if (await this.backend.removeEmptyDirectory(runDir(run))) await this.backend.removeEmptyDirectory(setAsideDir);
  }

  /** The runs with tags still set aside in storage (an interrupted run among them). */
  async setAsideRuns(): Promise<string[]> {
    return ((await this.backend.list(setAsideDir)) ?? []).filter((e) => e.directory).map((e) => e.name);
  }

  /** Every tag a run has set aside, with its repository; names that are not rc's are left out. */
  async tagsSetAside(run: string): Promise<Array<{ repository: string; tag: string }>> {
    const entries = (await this.backend.list(runDir(run))) ?? [];
    return entries.flatMap((entry) => {
      const decoded = entry.directory ? decodeAside(entry.name) : undefined;
      return decoded ? [decoded] : [];
    });
  }

  async contents(repository: string): Promise<RepositoryContents> {
    const entries = await this.backend.list(repoPath(repository));
    if (entries === null) return { exists: false, hasManifests: false, tags: [], uploads: [], nested: [], other: [] };
    const [tags, uploads] = await Promise.all([
      this.backend.list(repoPath(repository, '_manifests', 'tags')),
      this.backend.list(repoPath(repository, '_uploads')),
    ]);
    const parts = new Set<string>(repositoryParts);
    const uploadIds = (uploads ?? []).filter((e) => e.directory).map((e) => e.name);
    const started = await this.readMany(uploadIds.map((id) => repoPath(repository, '_uploads', checkSegment(id), 'startedat')));
    return {
      exists: true,
      hasManifests: entries.some((e) => e.directory && e.name === '_manifests'),
      tags: (tags ?? []).filter((e) => e.directory).map((e) => e.name),
      uploads: uploadIds.map((id, i) => ({ id, startedAt: parseTime(started[i]) })),
      nested: entries.filter((e) => e.directory && !parts.has(e.name)).map((e) => e.name),
      other: entries.filter((e) => !e.directory).map((e) => e.name),
    };
  }

  /**
   * Removes an emptied repository so it leaves `_catalog`: its `_manifests`, `_layers` and
   * `_uploads`, then its directory — and parents left empty — only if nothing else is in them,
   * atomically: a nested repository (`team/app` inside `team`) or a push landing meanwhile
   * keeps the directory. The caller has checked that it has no tags and no upload in flight.
   */
  async pruneRepository(repository: string): Promise<{ directoryRemoved: boolean }> {
    for (const part of repositoryParts) await this.backend.remove(repoPath(repository, part));
    const directoryRemoved = await this.backend.removeEmptyDirectory(repoPath(repository));
    if (directoryRemoved) {
      const segments = repository.split('/');
      for (let depth = segments.length - 1; depth > 0; depth--) {
        if (!(await this.backend.removeEmptyDirectory(repoPath(segments.slice(0, depth).join('/'))))) break;
      }
    }
    return { directoryRemoved };
  }

  private async move(from: string, to: string): Promise<boolean> {
    if (!this.backend.move) throw new Error(`${this.backend.description} cannot move entries`);
    return this.backend.move(from, to);
  }

  /** Reads several small files, in one batch where the backend can. */
  private async readMany(paths: string[]): Promise<Array<string | null>> {
    if (paths.length === 0) return [];
    if (this.backend.readTexts) return this.backend.readTexts(paths);
    return mapLimit(paths, this.concurrency, (path) => this.backend.readText(path));
  }
}

/** `docker/registry/v2/repositories/<repository>/<parts…>`, refusing any segment that could leave it. */
export function repoPath(repository: string, ...parts: string[]): string {
  const segments = repository.split('/');
  if (segments.length === 0 || repository.length === 0) throw new Error('empty repository name');
  return join(repositoriesDir, ...segments.map(checkSegment), ...parts.map(checkSegment));
}

/** `_manifests/revisions/<algorithm>/<hex>/link`: the repository links the manifest while this names it. */
function revisionLink(repository: string, digest: string): string {
  const [algorithm, hex] = splitDigest(digest);
  return repoPath(repository, '_manifests', 'revisions', algorithm, hex, 'link');
}

/** A run's directory of tags set aside: `docker/registry/v2/rc-tags-set-aside/<run>`. */
function runDir(run: string): string {
  return join(setAsideDir, checkSegment(run));
}

/** Where a run keeps a tag it has set aside: `<run>/<repository:tag>`, URI-encoded into one name. */
function asidePath(run: string, repository: string, tag: string): string {
  repository.split('/').forEach(checkSegment);
  return join(runDir(run), encodeURIComponent(`${repository}:${checkSegment(tag)}`));
}

function decodeAside(name: string): { repository: string; tag: string } | undefined {
  const decoded = /^[A-Za-z0-9_.%-]+$/.test(name) ? safeDecode(name) : undefined;
  const colon = decoded?.lastIndexOf(':') ?? -1;
  if (decoded === undefined || colon <= 0) return undefined;
  const repository = decoded.slice(0, colon);
  const tag = decoded.slice(colon + 1);
  const safe = [...repository.split('/'), tag].every((segment) => safeSegment.test(segment) && segment !== '.' && segment !== '..');
  return safe ? { repository, tag } : undefined;
}

function safeDecode(name: string): string | undefined {
  try {
    return decodeURIComponent(name);
  } catch {
    return undefined;
  }
}

/** `sha256:<hex>` → its path segments; anything else is refused (it would not be a path the registry wrote). */
const digestPattern = /^(sha256|sha384|sha512):([a-f0-9]{64,128})$/;

function splitDigest(digest: string): [string, string] {
  const match = digestPattern.exec(digest);
  if (!match) throw new Error(`refusing to read a manifest with the malformed digest ${JSON.stringify(digest)}`);
  return [match[1]!, match[2]!];
}

function parseTime(text: string | null | undefined): Date | undefined {
  const time = text ? new Date(text.trim()) : undefined;
  return time && !Number.isNaN(time.getTime()) ? time : undefined;
}

function checkSegment(segment: string): string {
  if (!safeSegment.test(segment) || segment === '.' || segment === '..') {
    throw new Error(`refusing unsafe storage path segment ${JSON.stringify(segment)}`);
  }
  return segment;
}

function join(...segments: string[]): string {
  return segments.join('/');
}
