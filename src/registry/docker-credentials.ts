import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { InputError } from '../errors/input-error.js';
import { runCommand } from '../process/run-command.js';
import type { RegistryCredentials } from './endpoint.js';

interface AuthFile {
  auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string }>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
}

/**
 * Credentials the user already has: Docker's config (`$DOCKER_CONFIG/config.json` or
 * `~/.docker/config.json`: `credHelpers`, `credsStore`, `auths` with `auth`, `username`/`password`
 * or `identitytoken`), then podman's `auth.json` (`$REGISTRY_AUTH_FILE`,
 * `$XDG_RUNTIME_DIR/containers/auth.json`). A file that exists but cannot be read is bad input.
 */
export async function storedCredentials(host: string, env: NodeJS.ProcessEnv = process.env): Promise<RegistryCredentials | undefined> {
  // Docker treats an empty DOCKER_CONFIG as unset.
  const dockerConfig = path.join(env.DOCKER_CONFIG || path.join(homedir(), '.docker'), 'config.json');
  const docker = await readAuthFile(dockerConfig);
  if (docker) {
    const helper = docker.credHelpers?.[host] ?? entryFor(docker.credHelpers ?? {}, host) ?? docker.credsStore;
    if (helper) {
      const fromHelper = await askHelper(helper, host);
      if (fromHelper) return fromHelper;
    }
    const fromAuths = fromAuthEntry(entryFor(docker.auths ?? {}, host));
    if (fromAuths) return fromAuths;
  }
  const podmanFiles = [env.REGISTRY_AUTH_FILE, env.XDG_RUNTIME_DIR && path.join(env.XDG_RUNTIME_DIR, 'containers', 'auth.json')];
  for (const file of podmanFiles) {
    if (!file) continue;
    const fromPodman = fromAuthEntry(entryFor((await readAuthFile(file))?.auths ?? {}, host));
    if (fromPodman) return fromPodman;
  }
  return undefined;
}

async function readAuthFile(file: string): Promise<AuthFile | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw new InputError(`cannot read the credentials file ${file}: ${code ?? (error as Error).message}`, [], 'fix its permissions, or point DOCKER_CONFIG / REGISTRY_AUTH_FILE elsewhere');
  }
  try {
    return JSON.parse(text) as AuthFile;
  } catch (error) {
    throw new InputError(`the credentials file ${file} is not valid JSON: ${(error as Error).message}`, [], 'fix it (docker login rewrites it), or point DOCKER_CONFIG / REGISTRY_AUTH_FILE elsewhere');
  }
}

/** `auths` keys come as `host`, `https://host`, `https://host/v1/`: compare hosts only. */
function entryFor<T>(entries: Record<string, T>, host: string): T | undefined {
  if (entries[host] !== undefined) return entries[host];
  const found = Object.keys(entries).find((key) => key.replace(/^[a-z]+:\/\//, '').replace(/\/.*$/, '') === host);
  return found === undefined ? undefined : entries[found];
}

function fromAuthEntry(entry: { auth?: string; username?: string; password?: string; identitytoken?: string } | undefined): RegistryCredentials | undefined {
  if (!entry) return undefined;
  if (entry.identitytoken) return { identityToken: entry.identitytoken };
  if (entry.auth) {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon > 0) return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  if (entry.username && entry.password) return { username: entry.username, password: entry.password };
  return undefined;
}

/** `docker-credential-<name> get`, host on stdin; `<token>` as the username means the secret is an identity token. */
async function askHelper(name: string, host: string): Promise<RegistryCredentials | undefined> {
  const result = await runCommand([`docker-credential-${name}`, 'get'], { input: host, timeoutMs: 30_000 }).catch(() => undefined);
  if (!result || result.exitCode !== 0) return undefined;
  try {
    const { Username, Secret } = JSON.parse(result.output) as { Username?: string; Secret?: string };
    if (!Secret) return undefined;
    return Username === '<token>' ? { identityToken: Secret } : { username: Username ?? '', password: Secret };
  } catch {
    return undefined;
  }
}
