import path from 'node:path';
import type { RendererChoice } from '../cli/renderer.js';
import { displayPath } from '../config/load-config.js';
import type { Config } from '../config/schema.js';
import { corePluginName } from '../plugins/core-plugin.js';
import { loadPluginRegistry } from '../plugins/load-plugins.js';
import { buildCleanReport, type CleanReport } from '../report/clean-report.js';
import type { CleanContext, CleanOptions } from './context.js';
import { probeUploadsCleared } from './confirm-storage.js';
import { runPipeline } from './run-pipeline.js';
import { vetoImage } from './veto.js';

export interface CleanRequest {
  config: Config;
  configFile: string | undefined;
  options: CleanOptions;
  renderer: RendererChoice;
  signal: AbortSignal;
}

/**
 * Runs the clean pipeline and always returns the report — with `error` set when a step
 * stopped the run — so the user sees what was and was not done either way.
 */
export async function runClean(request: CleanRequest): Promise<{ report: CleanReport; error?: unknown }> {
  const plugins = await loadPluginRegistry(request.config.plugins, request.configFile);
  const ctx: CleanContext = {
    veto: (image, reason) => vetoImage(ctx, image, reason),
    report: () => buildCleanReport(ctx),
    reached: new Set(),
    options: request.options,
    config: request.config,
    signal: request.signal,
    plugins,
    configFile: request.configFile ? displayPath(request.configFile) : 'config',
    configDir: request.configFile ? path.dirname(request.configFile) : process.cwd(),
    registries: new Map(),
    list: { entries: [], duplicates: [] },
    images: [],
    repositories: new Map(),
    plan: [],
    pruned: [],
    pruneCandidates: [],
    gc: [],
    restart: [],
    warnings: [],
    gcOwed: new Set(),
    skipped: new Map(),
  };
  let error: unknown;
  try {
    await runPipeline(plugins.steps, ctx, request.renderer, corePluginName);
  } catch (caught) {
    error = caught;
  } finally {
    // A run that stopped before its deletions ended still clears the storage probe's upload away, before its clients close.
    ctx.warnings.push(...(await probeUploadsCleared(ctx.registries.values())));
    await Promise.allSettled([...ctx.registries.values()].flatMap((t) => [t.client.close(), t.storage?.close()]));
  }
  if (error !== undefined && ctx.failure === undefined) ctx.failure = error;
  const report = buildCleanReport(ctx);
  return error === undefined ? { report } : { report, error };
}
