import { ExitCode } from './exit-codes.js';

/**
 * Base of every error `rc` reports on purpose. `hint` says what to do about it;
 * `exitCode` is what the process exits with when this error ends a run.
 */
export class RcError extends Error {
  readonly exitCode: ExitCode;
  readonly hint: string | undefined;

  constructor(message: string, options: { exitCode: ExitCode; hint?: string; cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.exitCode = options.exitCode;
    this.hint = options.hint;
  }
}
