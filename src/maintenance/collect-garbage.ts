import { errorMessage } from '../errors/error-message.js';
import { RunError } from '../errors/run-error.js';
import { confirmStorage } from '../pipeline/confirm-storage.js';
import type { GcReport } from '../pipeline/context.js';
import type { RegistryTarget } from '../pipeline/registry-target.js';
import { readGcResult, type GcResult } from '../runtime/gc-result.js';
import type { CommandIO } from '../runtime/registry-runtime.js';
import { probeRepository } from './recover-registry.js';
import { waitUntilUp } from './wait-until-up.js';

export interface CollectOptions {
  flags: string[];
  io: CommandIO;
  warn: (message: string) => void;
}

/**
 * One garbage collection in the target's GC mode, with its way back: whatever fails between
 * "registry stopped or read-only" and "registry back", the `finally` brings the registry back
 * writable (and proves it by an upload that lands in its storage), and the error says what
 * happened. Fills `report.cameBack` for the readonly and stopped modes.
 */
export async function collectGarbage(target: RegistryTarget, report: GcReport, options: CollectOptions): Promise<GcResult> {
  const runtime = target.runtime!;
  const mode = report.dryRun ? 'online' : (target.gcMode ?? 'online');
  if (mode === 'online') {
    if (!report.dryRun) {
      const safer = runtime.modes.filter((m) => m !== 'online');
      const avoid = safer.length > 0 ? ` (gc.mode ${safer.join(' or ')} avoids that)` : '';
      options.warn(`${target.host}: garbage collection runs while the registry serves: a push landing meanwhile can lose its blobs${avoid}`);
    }
    return readGcResult(await runtime.garbageCollect(options.flags, options.io));
  }

  report.cameBack = false;
  let result: GcResult | undefined;
  let failure: unknown;
  /** An upload the read-only check saw accepted: its leftovers are removed once storage is reachable again. */
  let acceptedUpload: string | undefined;
  try {
    if (mode === 'readonly') {
      await runtime.restartReadOnly!(options.io);
      await waitUntilUp(target, 'the read-only restart');
      acceptedUpload = await uploadAccepted(target);
      if (acceptedUpload !== undefined) {
        throw new RunError(`registry ${target.host} still accepted an upload after the read-only restart; garbage collection was not run`, {
          hint: 'check that the read-only restart sets storage.maintenance.readonly (REGISTRY_STORAGE_MAINTENANCE_READONLY=\'{"enabled":true}\')',
        });
      }
      result = readGcResult(await runtime.garbageCollect(options.flags, options.io));
    } else {
      await runtime.stop!(options.io);
      result = readGcResult(await runtime.garbageCollectStopped!(options.flags, options.io));
    }
  } catch (error) {
    failure = error;
  } finally {
    try {
      if (mode === 'readonly') await runtime.restart!(options.io);
      else await runtime.start!(options.io);
      await waitUntilUp(target, mode === 'readonly' ? 'the writable restart' : 'the start');
      if (acceptedUpload !== undefined) await target.storage?.removeProbe(probeRepository, acceptedUpload);
      // Back writable, and this storage is still its storage: an upload lands in it.
      await confirmStorage(target, probeRepository, { removeRepository: true });
      report.cameBack = true;
    } catch (restoreError) {
      const first = failure === undefined ? '' : ` after ${errorMessage(failure)}`;
      throw new RunError(`registry ${target.host} could not be brought back writable${first}: ${errorMessage(restoreError)}`, {
        hint: `bring it back by hand (${runtime.description}) and check that uploads work`,
        cause: restoreError,
      });
    }
  }
  if (failure !== undefined) throw failure;
  return result as GcResult;
}

/**
 * Read-only must be seen, not assumed: an upload has to be refused before GC may run. Returns
 * the id of an upload that was accepted after all (cancelled again; storage may be out of reach
 * while the registry's own container is stopped, so its leftovers are removed later).
 */
async function uploadAccepted(target: RegistryTarget): Promise<string | undefined> {
  const upload = await target.client.tryStartUpload(probeRepository);
  if (upload === null) return undefined;
  await target.client.cancelUpload(probeRepository, upload.location);
  return upload.id;
}
