import { errorMessage } from '../errors/error-message.js';
import { RunError } from '../errors/run-error.js';
import type { RegistryTarget } from './registry-target.js';

/** What a probe's upload left behind costs: nothing that needs a hand. */
const purged = 'harmless: the registry purges uploads after 168 hours';

/** An upload of the probe's that could not be cleared away: what failed, and the warning to show for it. */
export interface ProbeLeftover {
  failed: unknown;
  warning: string;
}

/**
 * Proves that the configured storage is this registry's before anything is removed from it.
 * Reading is not enough: a mirror holds byte-identical repositories, and pruning the mirror's
 * storage while cleaning the primary destroys data. So: start an upload through the API, look
 * for its `_uploads/<id>` in the storage, then cancel it and remove what the cancel leaves.
 */
export async function confirmStorage(target: RegistryTarget, repository: string, options: { removeRepository?: boolean } = {}): Promise<void> {
  const leftover = await (await proveStorage(target, repository, options)).cleared;
  if (leftover) throw leftover.failed;
}

/**
 * `confirmStorage` that returns as soon as the proof is in: the upload's cancel and the removal
 * of what it leaves go on in `cleared`, a round trip the run need not wait for. `cleared` never
 * rejects; it resolves to what was left, if anything.
 */
export async function proveStorage(
  target: RegistryTarget,
  repository: string,
  options: { removeRepository?: boolean } = {},
): Promise<{ cleared: Promise<ProbeLeftover | undefined> }> {
  const storage = target.storage;
  if (!storage) return { cleared: Promise.resolve(undefined) };
  const hadUploads = await storage.hasUploadsDirectory(repository);
  const upload = await target.client.startUpload(repository);
  let found = false;
  const record = `${repository}/_uploads/${upload.id}`;
  const clear = async (): Promise<ProbeLeftover | undefined> => {
    try {
      await target.client.cancelUpload(repository, upload.location);
      if (found && options.removeRepository) await storage.removeProbe(repository, upload.id);
      else if (found) await storage.removeUpload(repository, upload.id, !hadUploads);
      return undefined;
    } catch (error) {
      const warning = `the storage probe's upload on ${target.host} (${record}) could not be cleared away (${errorMessage(error)}); ${purged}`;
      return { failed: error, warning };
    }
  };
  try {
    found = await storage.hasUpload(repository, upload.id);
  } catch (error) {
    await clear();
    throw error;
  }
  if (!found) {
    const leftover = await clear();
    throw new RunError(
      `the configured storage (${storage.description}) is not the storage of registry ${target.host}: an upload started on the registry did not appear in it; nothing was changed (${leftover?.warning ?? `the registry's own storage may keep the cancelled upload's record, ${record}; ${purged}`})`,
      { hint: `point storage at the root directory of the registry serving ${target.client.baseUrl.origin} (its rootdirectory), or configure it under registries["${target.host}"].storage` },
    );
  }
  target.storageProven = true;
  return { cleared: clear() };
}

/**
 * Waits until the upload that proved each registry's storage is cleared away (the clean does not
 * wait for it before deleting), and gives a warning for each that could not be.
 */
export async function probeUploadsCleared(targets: Iterable<RegistryTarget>): Promise<string[]> {
  const warnings: string[] = [];
  for (const target of targets) {
    const leftover = await target.probeUpload;
    target.probeUpload = undefined;
    if (leftover) warnings.push(leftover.warning);
  }
  return warnings;
}
