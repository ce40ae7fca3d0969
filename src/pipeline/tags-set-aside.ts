import { hostname } from 'node:os';
import type { DeleteManifestAction } from '../plan/deletion-action.js';
import type { RegistryStorage } from '../storage/registry-storage.js';
import type { RegistryTarget } from './registry-target.js';

/**
 * The tags of the manifests a repository is about to lose by digest, moved out of it first.
 *
 * For every DELETE by digest, distribution reads the link of *every* tag in the repository to
 * find the tags on that digest, then removes them. `rc` knows them already: they are exactly the
 * tags it planned to go with the manifest (planned again on fresh tags just before). Moved aside
 * (one `rename` each, where the storage is proven the registry's own and its backend renames),
 * they are no longer read by every DELETE, and they are removed in a process of `rc`'s own
 * instead of one request at a time. A tag whose manifest is still there after the DELETEs (one
 * failed, or the run stopped) goes back where it was, unless a push has put a tag of that name
 * there since; a later run puts back what a killed one left.
 */
export interface TagsSetAside {
  storage: RegistryStorage;
  repository: string;
  /** The tags each deletion moved aside. */
  moved: Map<DeleteManifestAction, string[]>;
}

/**
 * A run of another machine younger than this may still be going: its tags are left alone. (Taking
 * those of a live run would put them back for its DELETE to untag as the registry always did.)
 */
const abandonedAfterMs = 10 * 60_000;

const thisHost = hostname().replace(/[^A-Za-z0-9_.-]/g, '_') || 'localhost';

/**
 * This process's directory of tags set aside, `<milliseconds since 1970>-<host>-<pid>`: a later
 * run on this machine recovers it as soon as the process is gone, one elsewhere after `abandonedAfterMs`.
 */
export const setAsideRun = `${Date.now()}-${thisHost}-${process.pid}`;

/** Whether a run's tags set aside are no longer anyone's: its process is gone, or it is too old to be going. */
function abandoned(run: string, now: number): boolean {
  // Only names rc writes (the host part is sanitised to these characters): anything else is not rc's to touch.
  const match = /^(\d+)-([A-Za-z0-9_.-]+)-(\d+)$/.exec(run);
  if (!match || run === setAsideRun) return false;
  const [, started, host, pid] = match;
  if (host === thisHost && !processAlive(Number(pid))) return true;
  return now - Number(started) >= abandonedAfterMs;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Moves the tags of `deletions` aside; undefined where the storage cannot (not configured, not
 * proven, or its backend does not rename). If a move fails, what was moved goes back and the
 * error is thrown: the repository is left as it was.
 */
export async function setTagsAside(target: RegistryTarget, repository: string, deletions: DeleteManifestAction[]): Promise<TagsSetAside | undefined> {
  const storage = target.storage;
  if (!storage?.canSetTagsAside || !target.storageProven || deletions.length === 0) return undefined;
  const aside: TagsSetAside = { storage, repository, moved: new Map() };
  try {
    for (const deletion of deletions) {
      const moved: string[] = [];
      aside.moved.set(deletion, moved);
      for (const tag of deletion.tags) if (await storage.setTagAside(setAsideRun, repository, tag)) moved.push(tag);
    }
  } catch (error) {
    await discardTagsSetAside(aside, await putBackUndeleted(aside, new Set()));
    throw error;
  }
  return aside;
}

/**
 * After the DELETEs: the tags of every manifest not known deleted go back if the repository
 * still links it (a DELETE failed, or the run stopped before it). Returns the tags left to
 * discard. If a tag cannot be put back, the error is thrown and the run's directory keeps it
 * for a later run to recover.
 */
export async function putBackUndeleted(aside: TagsSetAside, deleted: ReadonlySet<DeleteManifestAction>): Promise<string[]> {
  const { storage, repository } = aside;
  const discard: string[] = [];
  for (const [deletion, tags] of aside.moved) {
    const stillThere = tags.length > 0 && !deleted.has(deletion) && (await storage.manifestLinked(repository, deletion.digest));
    for (const tag of tags) if (!stillThere || !(await storage.putTagBack(setAsideRun, repository, tag))) discard.push(tag);
  }
  return discard;
}

/** Removes tags set aside that are not going back: those of deleted manifests, or superseded by a push. */
export async function discardTagsSetAside(aside: TagsSetAside, tags: readonly string[]): Promise<void> {
  if (tags.length > 0) await aside.storage.discardSetAside(setAsideRun, tags.map((tag) => ({ repository: aside.repository, tag })));
}

/**
 * Puts back what interrupted runs left set aside (killed between moving tags and deleting their
 * manifest): each tag whose manifest its repository still links, unless a tag of that name
 * exists again; the rest is removed. Only abandoned runs are touched (see `abandoned`).
 */
export async function recoverTagsSetAside(storage: RegistryStorage): Promise<Array<{ run: string; putBack: number; dropped: number }>> {
  if (!storage.canSetTagsAside) return [];
  const recovered = [];
  const now = Date.now();
  for (const run of await storage.setAsideRuns()) {
    if (!abandoned(run, now)) continue;
    let putBack = 0;
    const dropped: Array<{ repository: string; tag: string }> = [];
    for (const entry of await storage.tagsSetAside(run)) {
      const digest = await storage.setAsideTagDigest(run, entry.repository, entry.tag);
      const linked = digest !== undefined && (await storage.manifestLinked(entry.repository, digest));
      if (linked && (await storage.putTagBack(run, entry.repository, entry.tag))) putBack++;
      else dropped.push(entry);
    }
    await storage.discardSetAside(run, dropped);
    await storage.removeSetAsideRun(run);
    recovered.push({ run, putBack, dropped: dropped.length });
  }
  return recovered;
}
