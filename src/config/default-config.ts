import type { Config } from './schema.js';

/** Requests in flight per registry unless configured: measured in bench/ (see README, Performance). */
export const defaultConcurrency = 16;

/**
 * The config of a run without a config file: what `configSchema.parse({})` gives (test/config
 * holds the two equal), written out so that such a run does not load zod only to fill defaults.
 */
export function defaultConfig(): Config {
  return {
    registries: {},
    gc: { enabled: true, deleteUntagged: false, mode: 'auto', dryRun: false },
    restart: { enabled: true, timeoutSeconds: 120 },
    concurrency: defaultConcurrency,
    plugins: [],
  };
}
