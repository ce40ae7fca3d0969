import { Listr, ListrLogger, ProcessOutput, type ListrTask } from 'listr2';
import type { RendererChoice } from '../cli/renderer.js';
import { errorMessage } from '../errors/error-message.js';
import { RcError } from '../errors/rc-error.js';
import { RunError } from '../errors/run-error.js';
import type { ResolvedStep } from '../plugins/plugin-registry.js';
import type { CleanContext } from './context.js';
import type { StepIO } from './step.js';

/**
 * The one place that knows listr2: turns steps into tasks and runs them in order. After a
 * step fails, only steps marked `always` (the restore path) still run; then the first
 * failure is thrown. Renderer output goes to stderr so stdout stays for results and JSON.
 */
export async function runPipeline(steps: ResolvedStep[], ctx: CleanContext, renderer: RendererChoice, corePlugin: string): Promise<void> {
  const tasks: ListrTask<CleanContext>[] = steps.map(({ step, plugin }) => ({
    title: step.title,
    skip: (context) => {
      context.reached.add(step.id);
      const reason = context.failure !== undefined && !step.always ? 'not run: an earlier step failed' : (step.skip?.(context) ?? false);
      if (reason) context.skipped.set(step.id, reason);
      return reason || false;
    },
    task: async (context, task) => {
      const io: StepIO = {
        progress: (done, total) => {
          task.title = `${step.title} (${done}/${total})`;
        },
        info: (message) => {
          task.output = message;
        },
        detail: (message) => {
          if (renderer === 'verbose') task.output = message;
        },
        warn: (message) => {
          context.warnings.push(message);
          task.output = `warning: ${message}`;
        },
        title: (text) => {
          task.title = text;
        },
      };
      try {
        await step.run(context, io);
      } catch (error) {
        const reported = plugin === corePlugin ? error : pluginFailure(plugin, step.id, error);
        if (context.failure === undefined) context.failure = reported;
        throw reported;
      }
    },
  }));

  // Every renderer writes through this logger, so all progress goes to stderr.
  const logger = new ListrLogger({ processOutput: new ProcessOutput(process.stderr, process.stderr) });
  const listr = new Listr<CleanContext, RendererChoice, 'simple'>(tasks, {
    ctx,
    exitOnError: false,
    concurrent: false,
    registerSignalListeners: false,
    renderer,
    fallbackRenderer: 'simple',
    rendererOptions: { logger, collapseSkips: false, showSkipMessage: true, collapseErrors: false },
    fallbackRendererOptions: { logger },
  });
  await listr.run();
  if (ctx.failure !== undefined) throw ctx.failure;
}

function pluginFailure(plugin: string, stepId: string, error: unknown): RcError {
  const message = errorMessage(error);
  if (error instanceof RcError) {
    return new RunError(`plugin ${plugin}, step ${stepId}: ${message}`, { hint: error.hint, cause: error });
  }
  return new RunError(`plugin ${plugin}, step ${stepId} failed: ${message}`, { cause: error });
}
