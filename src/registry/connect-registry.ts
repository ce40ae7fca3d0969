import { readFile } from 'node:fs/promises';
import { configProblem } from '../config/locate-key.js';
import type { RegistrySettings } from '../config/schema.js';
import { InputError } from '../errors/input-error.js';
import type { RegistryClient, RegistryClientOptions } from './client.js';
import { registryCredentials } from './credentials.js';
import { registryUrl } from './endpoint.js';
import { defaultRetryPolicy } from './retry-policy.js';

/**
 * The client options a registry's settings ask for: timeouts, retries and TLS material read
 * from the files named. An unreadable file is bad input naming the key; skipping verification
 * is allowed but said out loud through `warn`.
 */
export async function clientOptions(
  host: string,
  url: URL,
  settings: RegistrySettings | undefined,
  where: { file: string; concurrency: number; warn: (message: string) => void },
): Promise<RegistryClientOptions> {
  const options: RegistryClientOptions = {
    connections: where.concurrency,
    timeoutMs: (settings?.timeoutSeconds ?? 30) * 1000,
    retry: { ...defaultRetryPolicy, retries: settings?.retries ?? defaultRetryPolicy.retries },
  };
  if (!settings || url.protocol !== 'https:') return options;
  const read = async (key: 'ca' | 'cert' | 'key'): Promise<Buffer | undefined> => {
    const path = settings[key];
    if (!path) return undefined;
    try {
      return await readFile(path);
    } catch (error) {
      throw new InputError(`cannot read the TLS file for ${host}; nothing was touched`, [
        await configProblem(where.file, ['registries', host, key], `registries["${host}"].${key}: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`),
      ]);
    }
  };
  const [ca, cert, key] = [await read('ca'), await read('cert'), await read('key')];
  if ((cert === undefined) !== (key === undefined)) {
    throw new InputError(`incomplete client certificate for ${host}; nothing was touched`, [
      await configProblem(where.file, ['registries', host, cert ? 'cert' : 'key'], `registries["${host}"]: cert and key go together`),
    ]);
  }
  if (settings.insecure) where.warn(`TLS certificate verification is OFF for ${host} (registries["${host}"].insecure): anyone on the network path can impersonate it`);
  options.tls = { ...(ca && { ca }), ...(cert && { cert }), ...(key && { key }), rejectUnauthorized: !settings.insecure };
  return options;
}

/** A client for a registry, as its settings (URL, credentials, TLS, timeouts, retries) say. */
export async function connectRegistry(
  host: string,
  settings: RegistrySettings | undefined,
  where: { file: string; concurrency: number; warn: (message: string) => void },
): Promise<RegistryClient> {
  const url = registryUrl(host, settings ?? {});
  const credentials = await registryCredentials(host, settings, where.file);
  // Loaded with the first connection: a run refused before any request never needs the client.
  const { RegistryClient } = await import('./client.js');
  return new RegistryClient({ host, url, ...(credentials && { credentials }) }, await clientOptions(host, url, settings, where));
}
