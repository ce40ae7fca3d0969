import { RunError } from '../errors/run-error.js';
import type { CleanContext, GcReport } from '../pipeline/context.js';
import type { RegistryTarget } from '../pipeline/registry-target.js';
import type { Step } from '../pipeline/step.js';

/**
 * Runs the registry's garbage collection once per registry per run (never per image), only
 * where this run deleted or pruned something, so the blobs of deleted images are freed.
 */
export const garbageCollectStep: Step = {
  id: 'gc',
  title: 'Collect garbage',
  skip(ctx) {
    if (!ctx.options.gc) return 'skipped (--no-gc)';
    const reports = decideAll(ctx);
    const why = reports.find((r) => r.skipped)?.skipped;
    return reports.some((r) => !r.skipped) ? false : (why ?? 'nothing to collect');
  },
  async run(ctx, io) {
    ctx.gc = decideAll(ctx);
    for (const report of ctx.gc) {
      if (report.skipped) {
        if (report.skipped.startsWith('no storage')) io.warn(`${report.registry}: garbage collection skipped: ${report.skipped}`);
        continue;
      }
      if (ctx.options.dryRun) {
        report.planned = true;
        continue;
      }
      const target = ctx.registries.get(report.registry)!;
      io.title(`Collect garbage on ${report.registry}`);
      const run = await target.storage!.backend.garbageCollect(
        { deleteUntagged: target.gc.deleteUntagged, dryRun: false },
        { onLine: (line) => io.detail(line), signal: ctx.signal },
      );
      const { output, ...summary } = run;
      report.ran = true;
      report.run = summary;
      if (!run.ok) {
        throw new RunError(`garbage collection on ${report.registry} failed (exit status non-zero: ${run.command.join(' ')})`, {
          hint: `its last lines:\n${output.split('\n').slice(-8).join('\n')}`,
        });
      }
      io.info(run.emptyRegistry ? `${report.registry}: no repositories, nothing to collect` : `${report.registry}: ${run.blobsDeleted} blobs deleted`);
    }
    const ran = ctx.gc.filter((r) => r.ran);
    io.title(
      ctx.options.dryRun
        ? `Collect garbage: would run on ${ctx.gc.filter((r) => r.planned).map((r) => r.registry).join(', ')}`
        : `Collect garbage: ${ran.map((r) => `${r.registry} freed ${r.run?.blobsDeleted ?? 0} blobs`).join(', ')}`,
    );
  },
};

function decideAll(ctx: CleanContext): GcReport[] {
  return [...ctx.registries.values()].map((target) => decide(ctx, target));
}

function decide(ctx: CleanContext, target: RegistryTarget): GcReport {
  const registry = target.host;
  if (!target.gc.enabled) return { registry, ran: false, skipped: 'gc.enabled is false' };
  if (!target.storage) return { registry, ran: false, skipped: 'no storage configured for this registry; unreferenced blobs stay on disk' };
  const changed = ctx.options.dryRun
    ? ctx.plan.some((a) => a.registry === registry) || ctx.pruned.some((p) => p.registry === registry)
    : ctx.images.some((i) => i.ref.registry === registry && i.status === 'deleted') || ctx.pruned.some((p) => p.registry === registry);
  if (!changed) return { registry, ran: false, skipped: 'nothing was deleted' };
  return { registry, ran: false };
}
