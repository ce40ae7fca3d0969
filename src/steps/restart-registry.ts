import { setTimeout as sleep } from 'node:timers/promises';
import { RunError } from '../errors/run-error.js';
import type { CleanContext, RestartReport } from '../pipeline/context.js';
import type { RegistryTarget } from '../pipeline/registry-target.js';
import type { Step } from '../pipeline/step.js';

const restartMatters =
  'after garbage collection the registry keeps a stale blob cache: a re-push of a deleted image reports ' +
  '"layer already exists" and produces a broken image until the registry restarts';

/**
 * Restarts each registry whose garbage collection started — also when it failed, or a later
 * registry's did — then waits until `/v2/` answers again. It is not cancelled by Ctrl-C:
 * it is the step that leaves the registry serving correctly.
 */
export const restartRegistryStep: Step = {
  id: 'restart',
  title: 'Restart the registry',
  always: true,
  skip(ctx) {
    const reports = decideAll(ctx);
    if (reports.length === 0) return 'no garbage collection ran';
    if (reports.some((r) => r.status !== 'skipped')) return false;
    const reason = reports[0]?.reason;
    return ctx.options.restart ? `not restarted (${reason}): ${restartMatters}; restart it yourself` : `not restarted (${reason})`;
  },
  async run(ctx, io) {
    ctx.restart = decideAll(ctx);
    let firstError: unknown;
    for (const report of ctx.restart.filter((r) => r.status !== 'skipped')) {
      if (ctx.options.dryRun) {
        report.status = 'would-restart';
        continue;
      }
      const target = ctx.registries.get(report.registry) as RegistryTarget;
      io.title(`Restart ${report.registry}`);
      try {
        await target.runtime!.restart!({ onLine: (line) => io.detail(line) });
        await waitUntilUp(target);
        report.status = 'restarted';
        io.info(`${report.registry} answers /v2/ again`);
      } catch (error) {
        report.status = 'failed';
        report.reason = error instanceof Error ? error.message : String(error);
        firstError ??= error;
      }
    }
    if (firstError) throw firstError;
    const verb = ctx.options.dryRun ? 'would restart' : 'restarted';
    io.title(`Restart the registry: ${verb} ${ctx.restart.filter((r) => r.status !== 'skipped').map((r) => r.registry).join(', ')}`);
  },
};

/** Whether each registry whose garbage collection started can be restarted, and why not. */
function decideAll(ctx: CleanContext): RestartReport[] {
  return ctx.gc
    .filter((gc) => gc.status === 'collected' || gc.status === 'failed' || gc.status === 'would-collect')
    .map((gc): RestartReport => {
      const registry = gc.registry;
      const target = ctx.registries.get(registry) as RegistryTarget;
      const skipped = (reason: string): RestartReport => ({ registry, status: 'skipped', reason });
      if (!ctx.options.restart) return skipped('--no-restart');
      if (!target.restart.enabled) return skipped('restart.enabled is false');
      if (!target.runtime?.restart) return skipped(target.runtime?.restartUnavailable ?? 'its storage backend cannot restart the registry');
      return { registry, status: 'would-restart' };
    });
}

async function waitUntilUp(target: RegistryTarget): Promise<void> {
  const deadline = Date.now() + target.restart.timeoutSeconds * 1000;
  // Give the restart a moment to take the old process down before the first probe.
  await sleep(200);
  while (Date.now() < deadline) {
    if (await target.client.isUp()) return;
    await sleep(250);
  }
  throw new RunError(`registry ${target.host} did not answer /v2/ within ${target.restart.timeoutSeconds} s after the restart`, {
    hint: "check the registry's log and that the restart command starts it again (restart.command)",
  });
}
