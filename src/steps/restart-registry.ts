import { setTimeout as sleep } from 'node:timers/promises';
import { RunError } from '../errors/run-error.js';
import type { CleanContext, RestartReport } from '../pipeline/context.js';
import type { Step } from '../pipeline/step.js';

const restartMatters =
  'after garbage collection the registry keeps a stale blob cache: a re-push of a deleted image reports ' +
  '"layer already exists" and produces a broken image until the registry restarts';

/** Restarts each registry whose garbage was collected, then waits until `/v2/` answers again. */
export const restartRegistryStep: Step = {
  id: 'restart',
  title: 'Restart the registry',
  skip(ctx) {
    const reports = decideAll(ctx);
    if (reports.length === 0) return 'no garbage collection ran';
    if (reports.some((r) => !r.skipped)) return false;
    const reason = reports[0]?.skipped;
    return ctx.options.restart ? `not restarted (${reason}): ${restartMatters}; restart it yourself` : `not restarted (${reason})`;
  },
  async run(ctx, io) {
    ctx.restart = decideAll(ctx);
    for (const report of ctx.restart.filter((r) => !r.skipped)) {
      if (ctx.options.dryRun) {
        report.planned = true;
        continue;
      }
      const target = ctx.registries.get(report.registry)!;
      io.title(`Restart ${report.registry}`);
      await target.storage!.backend.restart!({ onLine: (line) => io.detail(line), signal: ctx.signal });
      await waitUntilUp(target.client, target.restart.timeoutSeconds, ctx.signal);
      report.ran = true;
      io.info(`${report.registry} answers /v2/ again`);
    }
    const verb = ctx.options.dryRun ? 'would restart' : 'restarted';
    io.title(`Restart the registry: ${verb} ${ctx.restart.filter((r) => r.ran || r.planned).map((r) => r.registry).join(', ')}`);
  },
};

/** Whether each registry whose garbage was collected can be restarted, and why not. */
function decideAll(ctx: CleanContext): RestartReport[] {
  return ctx.gc
    .filter((gc) => gc.ran || gc.planned)
    .map((gc): RestartReport => {
      const target = ctx.registries.get(gc.registry)!;
      if (!ctx.options.restart) return { registry: gc.registry, ran: false, skipped: '--no-restart' };
      if (!target.restart.enabled) return { registry: gc.registry, ran: false, skipped: 'restart.enabled is false' };
      if (!target.storage?.backend.restart) {
        return { registry: gc.registry, ran: false, skipped: target.storage?.backend.restartUnavailable ?? 'the storage backend cannot restart the registry' };
      }
      return { registry: gc.registry, ran: false };
    });
}

async function waitUntilUp(client: { host: string; isUp(): Promise<boolean> }, timeoutSeconds: number, signal: AbortSignal) {
  const deadline = Date.now() + timeoutSeconds * 1000;
  // Give the restart a moment to take the old process down before the first probe.
  await sleep(200, undefined, { signal });
  while (Date.now() < deadline) {
    if (await client.isUp()) return;
    await sleep(250, undefined, { signal });
  }
  throw new RunError(`registry ${client.host} did not answer /v2/ within ${timeoutSeconds} s after the restart`, {
    hint: 'check the registry\'s log and that the restart command starts it again (restart.command)',
  });
}
