import { ExitCode } from './exit-codes.js';
import { RcError } from './rc-error.js';

/** Where a problem in an input file is: `file:line` (line is 1-based), or just the file. */
export interface InputProblem {
  file: string;
  line?: number;
  message: string;
}

export function formatProblem(problem: InputProblem): string {
  const where = problem.line === undefined ? problem.file : `${problem.file}:${problem.line}`;
  return `${where}: ${problem.message}`;
}

/**
 * Bad usage, image list or config (exit 2). Raised before anything is touched;
 * carries every problem found, not just the first, so one run shows them all.
 */
export class InputError extends RcError {
  readonly problems: InputProblem[];

  constructor(summary: string, problems: InputProblem[] = [], hint?: string) {
    const details = problems.map((p) => `  ${formatProblem(p)}`).join('\n');
    super(details ? `${summary}\n${details}` : summary, { exitCode: ExitCode.badInput, hint });
    this.problems = problems;
  }
}
