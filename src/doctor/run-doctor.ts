import type { Config } from '../config/schema.js';
import { errorMessage } from '../errors/error-message.js';
import { probeRepository } from '../maintenance/recover-registry.js';
import { confirmStorage } from '../pipeline/confirm-storage.js';
import type { RegistryTarget } from '../pipeline/registry-target.js';
import { RegistryError } from '../registry/errors.js';

export interface Check {
  registry: string;
  check: string;
  ok: boolean;
  /** What was found. */
  detail: string;
  /** What to do, when not ok. */
  fix?: string;
}

/**
 * Checks everything a clean needs, for one registry, without deleting anything: reachable,
 * credentials accepted, deletion enabled, version, storage reachable and really this
 * registry's, GC and restart possible. Each failed check says what to fix.
 */
export async function checkRegistry(target: RegistryTarget, config: Config): Promise<Check[]> {
  const checks: Check[] = [];
  const add = (check: string, ok: boolean, detail: string, fix?: string) =>
    checks.push({ registry: target.host, check, ok, detail, ...(fix && !ok && { fix }) });
  const attempt = async (check: string, work: () => Promise<string>) => {
    try {
      add(check, true, await work());
      return true;
    } catch (error) {
      add(check, false, errorMessage(error), error instanceof RegistryError || (error as { hint?: string }).hint ? (error as { hint?: string }).hint : undefined);
      return false;
    }
  };

  if (!(await attempt('reachable', async () => (await target.client.ping(), `${target.client.baseUrl.origin} answers /v2/`)))) return checks;
  await attempt('credentials', async () => {
    for await (const page of target.client.catalogPages(1)) return `the catalog can be read (${page.length > 0 ? 'not empty' : 'empty'})`;
    return 'the catalog can be read';
  });
  await attempt('deletion', async () => {
    target.support = await target.client.deletionSupport(probeRepository);
    if (!target.support.deleteEnabled) {
      throw Object.assign(new Error('deletion is disabled (405 UNSUPPORTED)'), {
        hint: 'set storage.delete.enabled: true (or REGISTRY_STORAGE_DELETE_ENABLED=true) and restart the registry',
      });
    }
    return target.support.tagDelete ? 'enabled; tags can be deleted on their own (distribution 3.x)' : 'enabled; no tag delete (distribution 2.x)';
  });
  if (!target.storage) {
    add('storage', false, 'no storage configured: emptied repositories stay in _catalog, and no garbage collection', 'configure storage (see the README) to prune and collect');
    return checks;
  }
  await attempt('storage', async () => {
    await confirmStorage(target, probeRepository, { removeRepository: true });
    return `${target.storage!.description}: reachable, and an upload started on the registry appears in it`;
  });
  const runtime = target.runtime;
  if (!runtime) {
    add('garbage collection', false, 'the storage backend cannot run garbage collection', 'use a backend with a runtime (filesystem with gc.command, or docker)');
    return checks;
  }
  await attempt('version', async () => `registry ${(await runtime.version?.()) ?? 'version unknown'} (${runtime.description})`);
  const mode = target.gcMode ?? 'online';
  add('gc mode', mode !== 'online', `${mode}${config.gc.mode === 'auto' ? ' (auto)' : ''}; possible: ${runtime.modes.join(', ')}`,
    'online GC can lose pushes that land meanwhile: configure restart.readOnlyCommand (readonly) or restart.stopCommand and startCommand (stopped)');
  await attempt('gc command', async () => {
    const result = await runtime.garbageCollect(['--dry-run'], {});
    if (result.exitCode !== 0 && !/Path not found: \S*\/repositories/.test(result.output)) {
      throw Object.assign(new Error(`garbage-collect --dry-run exited with status ${result.exitCode}: ${result.output.trim().split('\n').pop()}`), {
        hint: 'check gc.command (the registry binary and its config path)',
      });
    }
    return 'garbage-collect --dry-run runs';
  });
  add('restart', runtime.restart !== undefined, runtime.restart ? `restarts through ${runtime.description}` : (runtime.restartUnavailable ?? 'no way to restart'),
    'configure restart.command: after GC the registry must restart to drop its stale blob cache');
  return checks;
}
