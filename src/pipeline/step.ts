import type { StepContext } from './context.js';

/** What a step may tell the user while it runs. Steps never see the renderer (listr2) itself. */
export interface StepIO {
  /** `done` of `total` units of work finished; shown on the step's line. */
  progress(done: number, total: number): void;
  /** A notable event, e.g. a repository pruned (shown under the step). */
  info(message: string): void;
  /** Fine detail, e.g. a command's output lines (shown with --verbose only). */
  detail(message: string): void;
  /** Something the user should know about; also kept in the run's report. */
  warn(message: string): void;
  /** Replaces the step's title, e.g. with what it found. */
  title(text: string): void;
}

/**
 * One pipeline step: a plain object, testable without any renderer. Plugin steps see the
 * public `StepContext`; the core's own steps (`Step<CleanContext>`) see the run's internals too,
 * and are registered through the same plugin API. `skip` says why the step
 * does not apply to this run (the reason is shown); `run` does the work and records results
 * on the context for later steps.
 */
export interface Step<Context extends StepContext = StepContext> {
  /** Unique id, used to place plugin steps (`before: 'delete'`). */
  id: string;
  title: string;
  /**
   * Runs even after an earlier step failed: for steps that restore the registry (restart
   * after a GC that started). Other steps are skipped once one has failed.
   */
  always?: boolean;
  skip?(ctx: Context): string | false;
  run(ctx: Context, io: StepIO): Promise<void>;
}
