import { RunError } from '../errors/run-error.js';
import type { ContainerCli } from './container-cli.js';

/** What `rc` needs to know about the registry's container, from `<runtime> inspect`. */
export interface ContainerInfo {
  id: string;
  name: string;
  /** The image it runs, by id: the tag it was started from may point elsewhere by now (a pull of `registry:latest`). */
  image: string;
  running: boolean;
  /** Removed when stopped (`--rm`): it must never be stopped. */
  autoRemove: boolean;
  env: string[];
  entrypoint: string[];
  cmd: string[];
  user: string;
  mounts: Array<{ type: string; source: string; destination: string; name?: string }>;
  networkMode: string;
  /** `containerPort/proto` → host bindings, to publish the same ports from a stand-in container. */
  portBindings: Record<string, Array<{ HostIp?: string; HostPort?: string }>>;
}

interface InspectJson {
  Id: string;
  Name: string;
  Image: string;
  State?: { Running?: boolean };
  Config?: { Image?: string; Env?: string[] | null; Entrypoint?: string[] | string | null; Cmd?: string[] | string | null; User?: string };
  HostConfig?: { AutoRemove?: boolean; NetworkMode?: string; PortBindings?: ContainerInfo['portBindings'] | null };
  Mounts?: Array<{ Type: string; Source: string; Destination: string; Name?: string }>;
}

/** Inspects a container; a name the runtime does not know is an error that says how to find the right one. */
export async function inspectContainer(cli: ContainerCli, container: string): Promise<ContainerInfo> {
  const result = await cli.run(['inspect', '--type', 'container', container]);
  if (result.exitCode !== 0) {
    const missing = /no such (container|object)|not found/i.test(result.output);
    throw new RunError(
      missing
        ? `${cli.runtime} has no container named ${container}`
        : `${cli.runtime} inspect ${container} failed (exit status ${result.exitCode}): ${result.output.trim().split('\n').pop()}`,
      {
        hint: missing
          ? `set storage.container to the registry's container name (\`${cli.runtime} ps\` lists them), and check DOCKER_HOST or the context`
          : `check that ${cli.runtime} can reach its engine (DOCKER_HOST, --context)`,
      },
    );
  }
  const [json] = JSON.parse(result.stdout) as InspectJson[];
  if (!json) throw new RunError(`${cli.runtime} inspect ${container} printed nothing`);
  return {
    id: json.Id,
    name: json.Name.replace(/^\//, ''),
    image: json.Image,
    running: json.State?.Running ?? false,
    autoRemove: json.HostConfig?.AutoRemove ?? false,
    env: json.Config?.Env ?? [],
    entrypoint: asList(json.Config?.Entrypoint),
    cmd: asList(json.Config?.Cmd),
    user: json.Config?.User ?? '',
    mounts: (json.Mounts ?? []).map((m) => ({ type: m.Type, source: m.Source, destination: m.Destination, ...(m.Name && { name: m.Name }) })),
    networkMode: json.HostConfig?.NetworkMode ?? 'default',
    portBindings: json.HostConfig?.PortBindings ?? {},
  };
}

function asList(value: string[] | string | null | undefined): string[] {
  if (!value) return [];
  return Array.isArray(value) ? value : [value];
}
