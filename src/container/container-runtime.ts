import { RunError } from '../errors/run-error.js';
import type { RegistryRuntime } from '../runtime/registry-runtime.js';
import type { ContainerCli } from './container-cli.js';
import type { RegistryLayout } from './discover-registry.js';
import type { ContainerInfo } from './inspect-container.js';

/** Marks the stand-in containers `rc` starts, so a later run can recognise and remove one left by a crash. */
const standInLabel = 'io.registry-clean.stand-in-for';

/** The environment form of `storage.maintenance.readonly` that works (the `…_ENABLED=true` form panics or is ignored: distribution #2974). */
const readOnlyEnv = 'REGISTRY_STORAGE_MAINTENANCE_READONLY={"enabled":true}';

/**
 * The registry in a container, maintained through the runtime's CLI: GC by `exec`, restart by
 * `restart`. Read-only mode cannot be switched on in a running container, so it runs a
 * stand-in: the same image, volumes, environment, user, network and published ports, plus the
 * read-only setting, while the registry's own container is stopped; `restart` removes the
 * stand-in and starts the registry again.
 */
export function containerRuntime(cli: ContainerCli, info: ContainerInfo, discover: () => Promise<RegistryLayout>): RegistryRuntime {
  const standInName = `${info.name}-rc-readonly`;
  let standIn: string | undefined;
  const gc = async (flags: string[]) => {
    const layout = await discover();
    return { binary: layout.binary, args: ['garbage-collect', ...flags, layout.configPath] };
  };
  const refuseAutoRemove = () => {
    if (info.autoRemove) {
      throw new RunError(`container ${info.name} runs with --rm: stopping it would remove it`, { hint: 'use gc.mode online for it, or run it without --rm' });
    }
  };
  const removeStandIns = async (): Promise<number> => {
    const ids = (await cli.must(['ps', '-aq', '--filter', `label=${standInLabel}=${info.name}`])).split('\n').filter(Boolean);
    if (ids.length > 0) await cli.must(['rm', '-f', ...ids]);
    standIn = undefined;
    return ids.length;
  };

  return {
    description: `${cli.runtime} container ${info.name}`,
    modes: info.autoRemove ? ['online'] : ['online', 'readonly', 'stopped'],
    version: async () => (await discover()).version,
    async recover(io) {
      const removed = await removeStandIns();
      const running = (await cli.must(['inspect', '--type', 'container', '--format', '{{.State.Running}}', info.id])).trim() === 'true';
      if (!running) await cli.must(['start', info.id], { onLine: io.onLine });
      if (removed === 0 && running) return undefined;
      return `${removed > 0 ? `removed the read-only stand-in an interrupted run left, and ` : ''}${running ? 'the registry was running' : `started container ${info.name} again`}`;
    },
    async garbageCollect(flags, io) {
      const { binary, args } = await gc(flags);
      return cli.run(['exec', standIn ?? info.id, binary, ...args], { onLine: io.onLine, signal: io.signal });
    },
    async restart(io) {
      if (standIn !== undefined) {
        await removeStandIns();
        await cli.must(['start', info.id], { onLine: io.onLine });
      } else {
        await cli.must(['restart', info.id], { onLine: io.onLine });
      }
    },
    async restartReadOnly(io) {
      refuseAutoRemove();
      await discover(); // Learn the layout while the registry's own container still runs.
      await removeStandIns();
      await cli.must(['stop', info.id], { onLine: io.onLine });
      try {
        standIn = (await cli.must(standInArgs(info, standInName), { onLine: io.onLine })).trim().split('\n').pop();
      } catch (error) {
        await cli.must(['start', info.id]);
        throw error;
      }
    },
    async stop(io) {
      refuseAutoRemove();
      await discover(); // Learn the layout while the container still runs: the stopped GC needs it.
      await cli.must(['stop', info.id], { onLine: io.onLine });
    },
    async start(io) {
      await cli.must(['start', info.id], { onLine: io.onLine });
    },
    async garbageCollectStopped(flags, io) {
      const { binary, args } = await gc(flags);
      return cli.run(
        ['run', '--rm', '--volumes-from', info.id, '--network', 'none', ...userArgs(info), ...envArgs(info.env), '--entrypoint', binary, info.image, ...args],
        { onLine: io.onLine, signal: io.signal },
      );
    },
  };
}

/** `run -d` arguments for a read-only copy of the registry's container. */
function standInArgs(info: ContainerInfo, name: string): string[] {
  const [entrypoint, ...entrypointArgs] = info.entrypoint;
  const network = info.networkMode === 'default' || info.networkMode === 'bridge' ? [] : ['--network', info.networkMode];
  // On a user-defined network, other containers reach the registry by its name: keep that working.
  const alias = network.length > 0 && !['host', 'none'].includes(info.networkMode) && !info.networkMode.startsWith('container:') ? ['--network-alias', info.name] : [];
  const ports = Object.entries(info.portBindings).flatMap(([containerPort, bindings]) =>
    bindings.flatMap((b) => ['--publish', `${b.HostIp ? `${b.HostIp}:` : ''}${b.HostPort ?? ''}:${containerPort}`]),
  );
  return [
    'run', '-d', '--name', name, '--label', `${standInLabel}=${info.name}`,
    '--volumes-from', info.id, ...network, ...alias, ...ports, ...userArgs(info),
    ...envArgs([...info.env.filter((e) => !e.startsWith('REGISTRY_STORAGE_MAINTENANCE_READONLY')), readOnlyEnv]),
    ...(entrypoint ? ['--entrypoint', entrypoint] : []),
    info.image, ...entrypointArgs, ...info.cmd,
  ];
}

function envArgs(env: string[]): string[] {
  return env.flatMap((e) => ['--env', e]);
}

function userArgs(info: ContainerInfo): string[] {
  return info.user ? ['--user', info.user] : [];
}
