import { RunError } from '../errors/run-error.js';
import type { RegistryTarget } from './registry-target.js';

/**
 * Proves that the configured storage is this registry's before anything is removed from it.
 * Reading is not enough: a mirror holds byte-identical repositories, and pruning the mirror's
 * storage while cleaning the primary destroys data. So: start an upload through the API, look
 * for its `_uploads/<id>` in the storage, then cancel it and remove what the cancel leaves.
 */
export async function confirmStorage(target: RegistryTarget, repository: string, options: { removeRepository?: boolean } = {}): Promise<void> {
  const storage = target.storage;
  if (!storage) return;
  const hadUploads = await storage.hasUploadsDirectory(repository);
  const upload = await target.client.startUpload(repository);
  let found = false;
  try {
    found = await storage.hasUpload(repository, upload.id);
  } finally {
    await target.client.cancelUpload(repository, upload.location);
    if (found && options.removeRepository) await storage.removeProbe(repository, upload.id);
    else if (found) await storage.removeUpload(repository, upload.id, !hadUploads);
  }
  if (!found) {
    throw new RunError(
      `the configured storage (${storage.description}) is not the storage of registry ${target.host}: an upload started on the registry did not appear in it; nothing was changed (the registry's own storage may keep the cancelled upload's record, ${repository}/_uploads/${upload.id}: harmless, and the registry purges it after 168 hours)`,
      { hint: `point storage at the root directory of the registry serving ${target.client.baseUrl.origin} (its rootdirectory), or configure it under registries["${target.host}"].storage` },
    );
  }
  target.storageProven = true;
}
