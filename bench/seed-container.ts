import { randomUUID } from 'node:crypto';
import { docker, ensureDockerEngine, ensureRegistryImage } from '../testkit/docker/index.js';

/**
 * What the seed script's `docker inspect registry` inspects: a container of the registry image
 * with the benchmark registry's storage bind-mounted at /var/lib/registry, as in the seed's
 * deployment. It is created, not started (the registry being measured is the host process that
 * every other subject uses too): `docker inspect` answers the same for it, at the same cost.
 */
export interface SeedContainer {
  /** Merge into the seed script's environment: the engine (DOCKER_HOST) and the container's name. */
  env: Record<string, string>;
  remove(): Promise<void>;
}

/** The container on the test kit's Docker engine (started if need be), or why there is none. */
export async function createSeedContainer(storageRoot: string): Promise<SeedContainer | { unavailable: string }> {
  try {
    const engine = await ensureDockerEngine();
    const image = await ensureRegistryImage(engine);
    const name = `rc-bench-seed-${randomUUID().slice(0, 8)}`;
    await docker(['create', '--name', name, '--network', 'host', '-v', `${storageRoot}:/var/lib/registry`, image.reference], engine.env);
    return {
      env: { ...engine.env, SEED_CONTAINER: name },
      remove: async () => {
        await docker(['rm', '--force', name], engine.env);
      },
    };
  } catch (error) {
    return { unavailable: (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? 'no Docker engine' };
  }
}
