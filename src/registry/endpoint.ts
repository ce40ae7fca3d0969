/** How to reach one registry: its base URL and the credentials to answer its challenges with. */
export interface RegistryEndpoint {
  /** The registry as image references name it: `host[:port]`. */
  host: string;
  /** Base URL, e.g. `http://127.0.0.1:5000` (no path, no credentials). */
  url: URL;
  credentials?: RegistryCredentials;
}

export type RegistryCredentials =
  | { username: string; password: string }
  /** A bearer token sent as is. */
  | { token: string }
  /** An OAuth2 refresh token (docker's `identitytoken`), exchanged at the token realm. */
  | { identityToken: string };

export interface EndpointSettings {
  url?: string;
  insecure?: boolean;
}

/**
 * The registry's URL: the configured `url`, else `https://<host>`; plain `http://` only for
 * loopback hosts and hosts the config marks `insecure: true`, as docker itself does.
 */
export function registryUrl(host: string, settings: EndpointSettings = {}): URL {
  if (settings.url) {
    const url = new URL(settings.url);
    url.username = '';
    url.password = '';
    url.pathname = '/';
    url.search = '';
    url.hash = '';
    return url;
  }
  const scheme = settings.insecure || isLoopbackHost(host) ? 'http' : 'https';
  return new URL(`${scheme}://${host}/`);
}

export function isLoopbackHost(host: string): boolean {
  const name = host.startsWith('[') ? host.slice(1, host.indexOf(']')) : host.replace(/:\d+$/, '');
  return name === 'localhost' || name === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name);
}
