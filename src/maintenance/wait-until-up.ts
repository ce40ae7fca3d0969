import { setTimeout as sleep } from 'node:timers/promises';
import { RunError } from '../errors/run-error.js';
import type { RegistryTarget } from '../pipeline/registry-target.js';

/** Waits until the registry answers `GET /v2/` after a restart, stop/start or read-only restart. */
export async function waitUntilUp(target: RegistryTarget, what = 'the restart'): Promise<void> {
  const deadline = Date.now() + target.restart.timeoutSeconds * 1000;
  // Give the restart a moment to take the old process down before the first probe.
  await sleep(200);
  while (Date.now() < deadline) {
    if (await target.client.isUp()) return;
    await sleep(100);
  }
  throw new RunError(`registry ${target.host} did not answer /v2/ within ${target.restart.timeoutSeconds} s after ${what}`, {
    hint: "check the registry's log and that it can start (restart.timeoutSeconds sets how long rc waits)",
  });
}
