import * as z from 'zod/mini';
import { ContainerCli } from '../../container/container-cli.js';
import { containerRuntime } from '../../container/container-runtime.js';
import { discoverRegistry, type RegistryLayout } from '../../container/discover-registry.js';
import { execStorage } from '../exec-storage.js';
import { inspectContainer } from '../../container/inspect-container.js';
import { defineBackend } from '../../plugins/define.js';
import { nonEmptyString } from '../../config/non-empty-string.js';
import '../../config/zod-locale.js';

const options = z.strictObject({
  /** The registry's container, by name or id (the seed's `--name registry`). */
  container: nonEmptyString(),
  /** The container runtime's CLI: the same verbs for all three. */
  runtime: z._default(z.enum(['docker', 'podman', 'nerdctl']), 'docker'),
  /** A runtime context (`--context`); DOCKER_HOST and the current context apply as usual. */
  context: z.optional(nonEmptyString()),
  /** The storage root inside the container; default: discovered from its environment and config. */
  root: z.optional(z.string().check(z.startsWith('/'))),
  /** The registry executable inside the container; default: discovered (`/bin/registry` in the official image). */
  binary: z.optional(nonEmptyString()),
  /** The registry config inside the container; default: discovered (2.x `/etc/docker/registry/config.yml`, 3.x `/etc/distribution/config.yml`). */
  configPath: z.optional(z.string().check(z.startsWith('/'))),
});

/**
 * A registry running in a container: storage, GC and restart all go through the runtime's
 * CLI (`exec`, `restart`, `stop`/`start`), so nothing needs the host's storage path and `rc`
 * works from any machine that can reach the engine.
 */
export const dockerBackend = defineBackend({
  id: 'docker',
  summary: 'the registry runs in a container; storage, GC and restart go through docker/podman/nerdctl',
  options,
  async create(settings) {
    const cli = new ContainerCli(settings.runtime, settings.context);
    const info = await inspectContainer(cli, settings.container);
    // Discovery runs inside the container, so it waits until first needed: by then a registry
    // an interrupted run left stopped has been started again (runtime.recover).
    let layout: Promise<RegistryLayout> | undefined;
    const discover = () => (layout ??= discoverRegistry(cli, info, settings));
    const exec = (argv: string[]) => cli.run(['exec', info.id, ...argv]);
    const storage = execStorage(exec, async () => (await discover()).root, `${settings.runtime} container ${info.name}`);
    return { storage, runtime: containerRuntime(cli, info, discover) };
  },
});
