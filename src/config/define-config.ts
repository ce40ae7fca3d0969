import type { UserConfig } from './schema.js';

/** What a config function receives: which command is loading the config. */
export interface ConfigEnv {
  command: string;
}

export type ConfigExport = UserConfig | ((env: ConfigEnv) => UserConfig | Promise<UserConfig>);

/**
 * Types a `registry-clean.config.ts` in the editor and returns its argument unchanged:
 * `export default defineConfig({ storage: { backend: 'filesystem', root: '/data/registry' } })`.
 */
export function defineConfig(config: UserConfig): UserConfig;
export function defineConfig(config: (env: ConfigEnv) => UserConfig | Promise<UserConfig>): ConfigExport;
export function defineConfig(config: ConfigExport): ConfigExport {
  return config;
}
