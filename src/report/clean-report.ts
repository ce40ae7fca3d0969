import { errorMessage } from '../errors/error-message.js';
import { ExitCode } from '../errors/exit-codes.js';
import { RcError } from '../errors/rc-error.js';
import type { CleanContext, GcReport, PrunedRepository, RestartReport } from '../pipeline/context.js';
import type { RemovalMethod } from '../plan/image-outcome.js';

export type ReportedStatus = 'deleted' | 'absent' | 'failed' | 'skipped' | 'would-delete' | 'not-reached';

export interface ImageReport {
  image: string;
  status: ReportedStatus;
  digest?: string;
  method?: RemovalMethod;
  keptTags?: string[];
  removedTags?: string[];
  reason?: string;
  source: { file: string; line: number };
}

/** The result of `rc clean`: what `--json` prints, and what the text summary is made from. */
export interface CleanReport {
  dryRun: boolean;
  images: ImageReport[];
  summary: Record<ReportedStatus, number>;
  /** Repositories that left the catalog (dry run: would). */
  pruned: PrunedRepository[];
  gc: GcReport[];
  restart: RestartReport[];
  /** Steps that did not run, and why. */
  skipped: Record<string, string>;
  warnings: string[];
  /** Set when the run stopped early. */
  error?: { message: string; hint?: string; exitCode: number };
}

export function buildCleanReport(ctx: CleanContext): CleanReport {
  const images = ctx.images.map((image): ImageReport => {
    const status: ReportedStatus =
      image.status === 'pending' ? (ctx.options.dryRun && image.method ? 'would-delete' : 'not-reached') : image.status;
    return {
      image: image.image,
      status,
      ...(image.digest && { digest: image.digest }),
      ...(image.method && { method: image.method }),
      ...(image.keptTags?.length && { keptTags: image.keptTags }),
      ...(image.removedTags?.length && { removedTags: image.removedTags }),
      ...(image.reason && { reason: image.reason }),
      source: image.source,
    };
  });
  const summary: Record<ReportedStatus, number> = { deleted: 0, absent: 0, failed: 0, skipped: 0, 'would-delete': 0, 'not-reached': 0 };
  for (const image of images) summary[image.status]++;
  return {
    dryRun: ctx.options.dryRun,
    images,
    summary,
    pruned: ctx.pruned,
    gc: ctx.gc,
    restart: ctx.restart,
    skipped: Object.fromEntries(ctx.skipped),
    warnings: ctx.warnings,
    ...(ctx.failure !== undefined && { error: describeFailure(ctx.failure) }),
  };
}

function describeFailure(error: unknown): NonNullable<CleanReport['error']> {
  return {
    message: errorMessage(error),
    ...(error instanceof RcError && error.hint ? { hint: error.hint } : {}),
    exitCode: error instanceof RcError ? error.exitCode : ExitCode.failed,
  };
}

/** Exit status for a finished run: 1 when any image failed or was not reached. */
export function reportFailed(report: CleanReport): boolean {
  return report.summary.failed > 0 || report.summary['not-reached'] > 0 || report.error !== undefined;
}
