import { describe, expect, it } from 'vitest';
import { parseChallenge } from '../../src/registry/auth.js';
import { isLoopbackHost, registryUrl } from '../../src/registry/endpoint.js';
import { nextPageUrl } from '../../src/registry/paginate.js';

describe('registry addresses', () => {
  it('uses https for a named registry and plain http only for loopback or insecure hosts', () => {
    expect(registryUrl('registry.example.com').href).toBe('https://registry.example.com/');
    expect(registryUrl('registry.example.com:5000', { insecure: true }).href).toBe('http://registry.example.com:5000/');
    expect(registryUrl('127.0.0.1:5000').href).toBe('http://127.0.0.1:5000/');
    expect(registryUrl('localhost:5000').href).toBe('http://localhost:5000/');
    expect(registryUrl('[::1]:5000').href).toBe('http://[::1]:5000/');
  });

  it('takes the configured url but drops any credentials or path written into it', () => {
    expect(registryUrl('r.example', { url: 'https://user:pw@mirror.example:8443/some/path?x=1' }).href).toBe('https://mirror.example:8443/');
  });

  it('recognises loopback hosts only', () => {
    expect(isLoopbackHost('127.10.0.1:80')).toBe(true);
    expect(isLoopbackHost('10.0.0.1:5000')).toBe(false);
    expect(isLoopbackHost('localhost.example.com')).toBe(false);
  });
});

describe('auth challenges', () => {
  it('reads a bearer challenge with quoted parameters', () => {
    expect(parseChallenge('Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push"')).toEqual({
      scheme: 'bearer',
      params: { realm: 'https://auth.example/token', service: 'registry.example', scope: 'repository:a/b:pull,push' },
    });
  });

  it('reads a basic challenge', () => {
    expect(parseChallenge('Basic realm="Registry Realm"')).toEqual({ scheme: 'basic', params: { realm: 'Registry Realm' } });
  });
});

describe('pagination links', () => {
  const current = new URL('http://127.0.0.1:5000/v2/_catalog?n=2');

  it('follows a relative next link on the same registry', () => {
    expect(nextPageUrl('</v2/_catalog?last=b&n=2>; rel="next"', current)?.href).toBe('http://127.0.0.1:5000/v2/_catalog?last=b&n=2');
  });

  it('stops on the last page and never follows a link to another host', () => {
    expect(nextPageUrl(undefined, current)).toBeUndefined();
    expect(nextPageUrl('<https://elsewhere.example/v2/_catalog?last=b>; rel="next"', current)).toBeUndefined();
  });
});
