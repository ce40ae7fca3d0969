import type { RegistrySettings } from '../config/schema.js';
import { configProblem } from '../config/locate-key.js';
import { InputError } from '../errors/input-error.js';
import { storedCredentials } from './docker-credentials.js';
import type { RegistryCredentials } from './endpoint.js';

/**
 * The credentials for a registry, first found wins: the config's (a token, or a username with
 * `password` or the environment variable `passwordEnv` names), then those the user keeps for
 * docker and podman. A missing password is bad input (exit 2), found before any request.
 */
export async function registryCredentials(host: string, settings: RegistrySettings | undefined, file: string): Promise<RegistryCredentials | undefined> {
  return (await configuredCredentials(host, settings, file)) ?? (await storedCredentials(host));
}

async function configuredCredentials(host: string, settings: RegistrySettings | undefined, file: string): Promise<RegistryCredentials | undefined> {
  if (!settings) return undefined;
  if (settings.token) return { token: settings.token };
  if (!settings.username) return undefined;
  let password = settings.password;
  if (settings.passwordEnv) {
    password = process.env[settings.passwordEnv];
    if (password === undefined) {
      throw new InputError(
        'a registry password is missing; nothing was touched',
        [await configProblem(file, ['registries', host, 'passwordEnv'], `registries["${host}"].passwordEnv names ${settings.passwordEnv}, which is not set`)],
        `export ${settings.passwordEnv} before running rc`,
      );
    }
  }
  if (password === undefined) {
    throw new InputError('a registry password is missing; nothing was touched', [
      await configProblem(file, ['registries', host, 'username'], `registries["${host}"] has a username but no password or passwordEnv`),
    ]);
  }
  return { username: settings.username, password };
}
