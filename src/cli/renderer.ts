export type RendererChoice = 'default' | 'simple' | 'verbose' | 'silent';

/**
 * Picks the progress renderer (lint-staged's rule): `--json`/`--silent` → silent;
 * `--verbose` → a line per event with details; CI or no terminal → plain lines;
 * otherwise the animated default. All of them write to stderr.
 */
export function chooseRenderer(flags: { json?: boolean; silent?: boolean; verbose?: boolean }, env = process.env, stderr = process.stderr): RendererChoice {
  if (flags.json || flags.silent) return 'silent';
  if (flags.verbose) return 'verbose';
  if (env.CI || !stderr.isTTY || env.TERM === 'dumb') return 'simple';
  return 'default';
}
