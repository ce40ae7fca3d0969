import { errorMessage } from '../errors/error-message.js';
import { waitUntilUp } from '../maintenance/wait-until-up.js';
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
export const restartRegistryStep: Step<CleanContext> = {
  id: 'restart',
  title: 'Restart the registry',
  always: true,
  skip: (ctx) => (decideAll(ctx).length === 0 ? 'no garbage collection ran' : false),
  async run(ctx, io) {
    const decisions = decideAll(ctx);
    ctx.restart = decisions.map((d) => d.report);
    for (const { report } of decisions) {
      if (report.status === 'skipped' && !report.reason?.startsWith('garbage collection ran with --dry-run')) {
        const why = report.reason === '--no-restart' ? '' : `: ${restartMatters}`;
        io.warn(`${report.registry} was not restarted (${report.reason})${why}; restart it yourself`);
      }
    }
    let firstError: unknown;
    for (const report of decisions.filter((d) => d.restartHere).map((d) => d.report)) {
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
        report.reason = errorMessage(error);
        firstError ??= error;
      }
    }
    if (firstError) throw firstError;
    const verb = ctx.options.dryRun ? 'would restart' : 'restarted';
    const restarted = ctx.restart.filter((r) => r.status !== 'skipped').map((r) => r.registry);
    io.title(restarted.length > 0 ? `Restart the registry: ${verb} ${restarted.join(', ')}` : 'Restart the registry: not restarted');
  },
};

/**
 * What happens to each registry whose garbage collection started: restarted here (online
 * mode), already restarted by its GC maintenance window (readonly, stopped), or skipped and why.
 */
function decideAll(ctx: CleanContext): Array<{ report: RestartReport; restartHere: boolean }> {
  return ctx.gc
    .filter((gc) => gc.status === 'collected' || gc.status === 'failed' || gc.status === 'would-collect')
    .map((gc) => {
      const registry = gc.registry;
      const target = ctx.registries.get(registry) as RegistryTarget;
      const skipped = (reason: string) => ({ report: { registry, status: 'skipped' as const, reason }, restartHere: false });
      if (gc.dryRun) return skipped('garbage collection ran with --dry-run and deleted nothing');
      if (gc.mode === 'readonly' || gc.mode === 'stopped') {
        const planned = gc.status === 'would-collect';
        const status = planned ? 'would-restart' : gc.cameBack ? 'restarted' : 'failed';
        return { report: { registry, status, reason: `by the ${gc.mode} garbage collection` } as RestartReport, restartHere: false };
      }
      if (!ctx.options.restart) return skipped('--no-restart');
      if (!target.restart.enabled) return skipped('restart.enabled is false');
      if (!target.runtime?.restart) return skipped(target.runtime?.restartUnavailable ?? 'its storage backend cannot restart the registry');
      return { report: { registry, status: 'would-restart' as const }, restartHere: true };
    });
}
