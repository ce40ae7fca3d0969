/** The process exit codes of `rc`. Stable: scripts and CI depend on them. */
export const ExitCode = {
  /** Everything asked for was done (images already absent count as done). */
  ok: 0,
  /** Something failed at run time: registry unreachable, deletion disabled, a step or plugin failed. */
  failed: 1,
  /** Bad usage, image list or config. Nothing was touched. */
  badInput: 2,
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export const exitCodeHelp = `EXIT CODES
  0  nothing failed (images that were already absent are fine)
  1  something failed at run time (registry down, deletion disabled, a step failed)
  2  bad usage, image list or config; nothing was touched`;
