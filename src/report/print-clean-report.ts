import type { GcReport } from '../pipeline/context.js';
import type { CleanReport, ImageReport } from './clean-report.js';

const methodText: Record<string, string> = {
  'manifest-delete': 'manifest deleted by digest',
  'tag-delete': 'tag deleted',
  'storage-tag-remove': 'tag removed from storage',
  'throwaway-manifest': 'tag detached with a throwaway manifest',
};

/**
 * The human summary of a clean: a line per image, then prune, GC, restart and totals. Lines are
 * produced one at a time: 50,000 images are written without building one 5 MB string first.
 */
export function* cleanReportLines(report: CleanReport): Generator<string> {
  const width = report.images.reduce((widest, image) => Math.max(widest, statusText(image, report.dryRun).length), 'restart'.length);
  for (const image of report.images) {
    yield `${statusText(image, report.dryRun).padEnd(width)}  ${image.image}${details(image, report.dryRun)}`;
  }
  const prune = report.dryRun ? 'would prune' : 'pruned';
  for (const repo of report.pruned) {
    yield `${prune.padEnd(width)}  ${repo.registry}/${repo.repository}${repo.directoryRemoved ? '' : ` (directory kept: it holds ${repo.keptFor?.join(', ') ?? 'other entries'})`}`;
  }
  for (const gc of report.gc) {
    if (gc.status === 'would-collect') yield `${'gc'.padEnd(width)}  ${gc.registry}: would run garbage collection`;
    if (gc.status === 'collected') yield `${'gc'.padEnd(width)}  ${gc.registry}: ${describeCollection(gc)}`;
    if (gc.status === 'failed') yield `${'gc'.padEnd(width)}  ${gc.registry}: failed`;
  }
  for (const restart of report.restart) {
    if (restart.status === 'would-restart') yield `${'restart'.padEnd(width)}  ${restart.registry}: would restart`;
    if (restart.status === 'restarted') yield `${'restart'.padEnd(width)}  ${restart.registry}: restarted${restart.reason ? ` ${restart.reason}` : ''}, answering again`;
    if (restart.status === 'failed') yield `${'restart'.padEnd(width)}  ${restart.registry}: failed: ${restart.reason}`;
    if (restart.status === 'skipped') yield `${'restart'.padEnd(width)}  ${restart.registry}: not restarted (${restart.reason})`;
  }
  for (const [step, reason] of Object.entries(report.skipped)) {
    if (step === 'gc' || step === 'restart' || step === 'prune') yield `${step.padEnd(width)}  skipped: ${reason}`;
  }
  for (const warning of report.warnings) yield `warning: ${warning}`;
  const s = report.summary;
  const totals = report.dryRun
    ? `Dry run, nothing changed: ${s['would-delete']} would be deleted, ${s.absent} absent, ${s.failed} would fail${s.skipped ? `, ${s.skipped} kept by a rule` : ''}`
    : `${s.deleted} deleted, ${s.absent} absent, ${s.failed} failed${s.skipped ? `, ${s.skipped} skipped` : ''}${s['not-reached'] ? `, ${s['not-reached']} not reached` : ''}`;
  yield totals;
}

function describeCollection(gc: GcReport): string {
  if (gc.result?.emptyRegistry) return 'no repositories, nothing to collect';
  const blobs = `${gc.result?.blobsDeleted ?? 0} blobs ${gc.dryRun ? 'would be deleted (gc.dryRun)' : 'deleted'}`;
  const { before, after } = gc.storage ?? {};
  const freed = before && after ? `, storage ${formatBytes(before.bytes)} → ${formatBytes(after.bytes)}` : '';
  return `${blobs}${freed}${gc.mode && !gc.dryRun ? ` (${gc.mode})` : ''}`;
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

function statusText(image: ImageReport, dryRun: boolean): string {
  if (dryRun && image.status === 'would-delete') return 'would delete';
  return image.status;
}

function details(image: ImageReport, dryRun: boolean): string {
  const parts: string[] = [];
  if (image.method) parts.push(methodText[image.method] ?? image.method);
  if (image.keptTags?.length) parts.push(`${dryRun ? 'keeps' : 'kept'} ${image.keptTags.join(', ')}`);
  if (image.removedTags?.length) parts.push(`tags ${dryRun ? 'going' : 'gone'} with it: ${image.removedTags.join(', ')}`);
  if (image.reason) parts.push(image.reason);
  if (image.digest && image.status !== 'absent') parts.push(image.digest.slice(0, 19));
  return parts.length > 0 ? `  (${parts.join('; ')})` : '';
}
