import type { CleanContext } from '../pipeline/context.js';
import type { RegistryTarget } from '../pipeline/registry-target.js';
import type { StepIO } from '../pipeline/step.js';
import { waitUntilUp } from './wait-until-up.js';

/** A repository name of our own for probes: an accepted upload there touches no real repository. */
export const probeRepository = 'registry-clean-probe';

/**
 * Brings back a registry that an interrupted run left inside its GC window — stopped, or
 * read-only — before anything else happens, and marks its garbage collection as owed. The
 * runtime recovers itself where it can tell (a container's stand-in); otherwise the signs are
 * read: down while a start command is configured, or refusing uploads with 405 while a
 * read-only restart is configured (so read-only mode is rc's to undo).
 */
export async function recoverRegistry(ctx: CleanContext, target: RegistryTarget, io: StepIO): Promise<void> {
  const runtime = target.runtime;
  if (ctx.options.dryRun || !runtime) return;
  let recovered: string | undefined;
  if (runtime.recover) {
    recovered = await runtime.recover({ onLine: (line) => io.detail(line) });
  } else if (runtime.start && !(await target.client.isUp())) {
    await runtime.start({ onLine: (line) => io.detail(line) });
    recovered = 'it was down: started it with restart.startCommand (left stopped by an interrupted run?)';
  } else if (runtime.restartReadOnly && runtime.restart && target.storage && (await target.client.isUp())) {
    const attempt = await target.client.probeUpload(probeRepository);
    if ('refused' in attempt) {
      if (attempt.refused === 405) {
        await runtime.restart({ onLine: (line) => io.detail(line) });
        recovered = 'it refused uploads (read-only): restarted it writable with restart.command (left read-only by an interrupted run?)';
      }
    } else {
      await target.client.cancelUpload(probeRepository, attempt.location);
      await target.storage.removeProbe(probeRepository, attempt.id);
    }
  }
  if (!recovered) return;
  await waitUntilUp(target, 'the recovery');
  ctx.gcOwed.add(target.host);
  io.warn(`${target.host}: ${recovered}; its garbage collection runs again`);
}
