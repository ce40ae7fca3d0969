import { ExitCode } from './exit-codes.js';
import { RcError } from './rc-error.js';

/** A failure at run time (exit 1): the input was fine, the world was not. */
export class RunError extends RcError {
  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, { exitCode: ExitCode.failed, ...options });
  }
}
