import { RunError } from '../errors/run-error.js';
import type { ContainerCli } from './container-cli.js';
import type { ContainerInfo } from './inspect-container.js';

/** Where the registry inside a container keeps things, and which line of distribution it is. */
export interface RegistryLayout {
  binary: string;
  configPath: string;
  /** The filesystem driver's root directory inside the container. */
  root: string;
  /** e.g. `2.8.2`; undefined when `--version` says nothing recognisable. */
  version: string | undefined;
  major: number | undefined;
}

export interface LayoutOverrides {
  binary?: string;
  configPath?: string;
  root?: string;
}

/** The official images' config paths: 2.x and 3.x moved it. */
const configPaths = { 2: '/etc/docker/registry/config.yml', 3: '/etc/distribution/config.yml' } as const;

/**
 * Finds the registry binary, its config and its storage root from the container itself:
 * the entrypoint and command, the environment (`REGISTRY_…` overrides the config file), and
 * the config file read through `exec`. Options override each.
 */
export async function discoverRegistry(cli: ContainerCli, info: ContainerInfo, overrides: LayoutOverrides): Promise<RegistryLayout> {
  const argv = [...info.entrypoint, ...info.cmd];
  const binary = overrides.binary ?? argv.find((arg) => /(^|\/)(registry|docker-registry)$/.test(arg)) ?? '/bin/registry';
  const versionOutput = await cli.run(['exec', info.id, binary, '--version']);
  if (versionOutput.exitCode !== 0) {
    throw new RunError(`cannot run the registry binary ${binary} in container ${info.name}: ${versionOutput.output.trim().split('\n').pop()}`, {
      hint: 'set storage.binary to the registry executable inside the container',
    });
  }
  const version = /\bv?(\d+)\.(\d+)\.(\d+)/.exec(versionOutput.output);
  const major = version ? Number(version[1]) : undefined;
  const configPath =
    overrides.configPath ??
    argv.find((arg) => /\.ya?ml$/.test(arg)) ??
    (await firstExisting(cli, info.id, major === 3 ? [configPaths[3], configPaths[2]] : [configPaths[2], configPaths[3]]));
  const root = overrides.root ?? (await storageRoot(cli, info, configPath));
  return { binary, configPath, root, version: version ? `${version[1]}.${version[2]}.${version[3]}` : undefined, major };
}

async function firstExisting(cli: ContainerCli, id: string, paths: string[]): Promise<string> {
  for (const path of paths) {
    if ((await cli.run(['exec', id, 'sh', '-c', '[ -f "$1" ]', 'sh', path])).exitCode === 0) return path;
  }
  throw new RunError(`no registry config found in the container (looked at ${paths.join(', ')})`, { hint: 'set storage.configPath' });
}

/** The filesystem root: `REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY`, else the config's `storage.filesystem.rootdirectory`. */
async function storageRoot(cli: ContainerCli, info: ContainerInfo, configPath: string): Promise<string> {
  const fromEnv = envValue(info.env, 'REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY');
  if (fromEnv) return fromEnv;
  const text = await cli.run(['exec', info.id, 'cat', configPath]);
  if (text.exitCode !== 0) throw new RunError(`cannot read ${configPath} in container ${info.name}`, { hint: 'set storage.configPath or storage.root' });
  // The default export: yaml is CommonJS, and a bundled dynamic import gives only that.
  const { default: yaml } = await import('yaml');
  const config = yaml.parse(text.stdout) as { storage?: Record<string, { rootdirectory?: string } | undefined> } | null;
  const storage = config?.storage ?? {};
  const drivers = Object.keys(storage).filter((key) => !['cache', 'delete', 'maintenance', 'redirect', 'tag'].includes(key));
  if (drivers.length > 0 && !drivers.includes('filesystem')) {
    throw new RunError(`the registry in ${info.name} uses the ${drivers.join(', ')} storage driver; the docker backend needs the filesystem driver`);
  }
  return storage.filesystem?.rootdirectory ?? '/var/lib/registry';
}

export function envValue(env: string[], name: string): string | undefined {
  const entry = env.find((e) => e.startsWith(`${name}=`));
  return entry?.slice(name.length + 1);
}
