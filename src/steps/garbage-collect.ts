import { RunError } from '../errors/run-error.js';
import { probeUploadsCleared } from '../pipeline/confirm-storage.js';
import type { CleanContext, GcReport } from '../pipeline/context.js';
import type { RegistryTarget } from '../pipeline/registry-target.js';
import type { Step } from '../pipeline/step.js';
import { collectGarbage } from '../maintenance/collect-garbage.js';

/**
 * Runs the registry's garbage collection once per registry per run (never per image), only
 * where this run deleted or pruned something, so the blobs of deleted images are freed — in
 * the registry's GC mode (see `collectGarbage`), measuring blob storage before and after.
 * A GC that started is marked `failed` until it succeeds, so the restart step — which runs
 * even after a failure — restores the registry either way.
 */
export const garbageCollectStep: Step<CleanContext> = {
  id: 'gc',
  title: 'Collect garbage',
  skip(ctx) {
    if (!ctx.options.gc) return 'skipped (--no-gc)';
    const reports = decideAll(ctx);
    return reports.some((r) => r.status !== 'skipped') ? false : (reports[0]?.reason ?? 'nothing to collect');
  },
  async run(ctx, io) {
    // Where no deletion ran, the storage probe's upload may still be on its way out: not while the registry goes read-only.
    for (const warning of await probeUploadsCleared(ctx.registries.values())) io.warn(warning);
    ctx.gc = decideAll(ctx);
    for (const report of ctx.gc) {
      if (report.status === 'skipped') {
        if (report.reason !== nothingDeleted) io.warn(`${report.registry}: garbage collection skipped: ${report.reason}`);
        continue;
      }
      if (ctx.options.dryRun) {
        report.status = 'would-collect';
        continue;
      }
      const target = ctx.registries.get(report.registry) as RegistryTarget;
      io.title(`Collect garbage on ${report.registry}${report.dryRun ? ' (dry run)' : ` (${report.mode})`}`);
      const before = await target.storage!.blobUsage();
      if (before) report.storage = { before };
      report.status = 'failed';
      const flags = [...(target.gc.deleteUntagged ? ['--delete-untagged'] : []), ...(report.dryRun ? ['--dry-run'] : [])];
      const result = await collectGarbage(target, report, {
        flags,
        io: { onLine: (line) => io.detail(line), signal: ctx.signal },
        warn: (message) => io.warn(message),
      }).catch((error: unknown) => {
        if (!ctx.signal.aborted) throw error;
        throw new RunError(`garbage collection on ${report.registry} was interrupted`, { cause: error, hint: 'run rc clean --force-gc to collect what this run deleted' });
      });
      const { output, ...summary } = result;
      report.result = summary;
      if (!result.ok) {
        throw new RunError(`garbage collection on ${report.registry} failed with exit status ${result.exitCode}`, {
          hint: `its last lines:\n${output.split('\n').slice(-8).join('\n')}`,
        });
      }
      const after = before && (await target.storage!.blobUsage());
      if (report.storage && after) report.storage.after = after;
      report.status = 'collected';
      io.info(
        result.emptyRegistry
          ? `${report.registry}: no repositories, nothing to collect`
          : `${report.registry}: ${result.blobsDeleted} blobs ${report.dryRun ? 'would be deleted' : 'deleted'}`,
      );
    }
    io.title(
      ctx.options.dryRun
        ? `Collect garbage: would run on ${ctx.gc.filter((r) => r.status === 'would-collect').map((r) => r.registry).join(', ')}`
        : `Collect garbage: ${ctx.gc.filter((r) => r.status === 'collected').map((r) => `${r.registry} freed ${r.result?.blobsDeleted ?? 0} blobs`).join(', ')}`,
    );
  },
};

const nothingDeleted = 'nothing was deleted';

function decideAll(ctx: CleanContext): GcReport[] {
  return [...ctx.registries.values()].map((target) => decide(ctx, target));
}

function decide(ctx: CleanContext, target: RegistryTarget): GcReport {
  const registry = target.host;
  const skipped = (reason: string): GcReport => ({ registry, status: 'skipped', reason });
  if (!target.gc.enabled) return skipped('gc.enabled is false');
  if (!target.storage) return skipped('no storage configured for this registry; unreferenced blobs stay on disk');
  if (!target.runtime) return skipped('its storage backend cannot run garbage collection');
  const changed = ctx.options.dryRun
    ? ctx.plan.some((a) => a.registry === registry) || ctx.pruned.some((p) => p.registry === registry)
    : ctx.images.some((i) => i.ref.registry === registry && i.status === 'deleted') || ctx.pruned.some((p) => p.registry === registry);
  if (!changed && !ctx.gcOwed.has(registry) && !ctx.options.forceGc) return skipped(nothingDeleted);
  // A dry-run GC deletes nothing, so it runs online, without a maintenance window.
  return { registry, status: 'not-reached', mode: target.gc.dryRun ? 'online' : (target.gcMode ?? 'online'), ...(target.gc.dryRun && { dryRun: true }) };
}
