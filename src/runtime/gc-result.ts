import type { CommandResult } from '../process/run-command.js';

/** What one garbage collection did, read from the registry's own output. */
export interface GcResult {
  /** Exit status 0, or a failure that only means there is nothing to collect. */
  ok: boolean;
  exitCode: number;
  /** GC failed because the registry has no repositories directory at all (distribution #3058). */
  emptyRegistry: boolean;
  blobsDeleted: number;
  manifestsDeleted: number;
  output: string;
}

/**
 * Reads `garbage-collect` output: counts what it deleted, and treats
 * `Path not found: …/docker/registry/v2/repositories` as nothing to collect, not a failure.
 */
export function readGcResult(result: CommandResult): GcResult {
  const { exitCode, output } = result;
  const emptyRegistry = exitCode !== 0 && /Path not found: \S*\/docker\/registry\/v2\/repositories/.test(output);
  return {
    ok: exitCode === 0 || emptyRegistry,
    exitCode,
    emptyRegistry,
    blobsDeleted: count(output, /blob eligible for deletion: sha256:/g),
    manifestsDeleted: count(output, /manifest eligible for deletion: /g),
    output,
  };
}

function count(text: string, pattern: RegExp): number {
  return text.match(pattern)?.length ?? 0;
}
