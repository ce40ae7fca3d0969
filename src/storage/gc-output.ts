import type { GcRun } from './storage-backend.js';

/**
 * Reads the registry's `garbage-collect` output. An empty registry makes GC fail with
 * `Path not found: .../repositories` (distribution #3058): that is nothing to collect.
 */
export function interpretGcOutput(command: string[], exitCode: number, output: string): GcRun {
  const emptyRegistry = exitCode !== 0 && /Path not found: \S*\/docker\/registry\/v2\/repositories/.test(output);
  return {
    ok: exitCode === 0 || emptyRegistry,
    emptyRegistry,
    blobsDeleted: count(output, /blob eligible for deletion: sha256:/g),
    manifestsDeleted: count(output, /manifest eligible for deletion: /g),
    output,
    command,
  };
}

function count(text: string, pattern: RegExp): number {
  return text.match(pattern)?.length ?? 0;
}
