import { describe, it, expect } from 'vitest';
import { ReferenceSyntaxError, parseImageReference } from '../../src/list/image-reference.js';

const HEX = 'a1b2c3d4'.repeat(8);

/** The message a bad reference is rejected with (fails the test if it is accepted). */
function rejection(input: string): string {
  try {
    parseImageReference(input);
  } catch (error) {
    expect(error).toBeInstanceOf(ReferenceSyntaxError);
    return (error as Error).message;
  }
  throw new Error(`expected ${JSON.stringify(input)} to be rejected`);
}

describe('parseImageReference accepts', () => {
  it('the seed list lines, splitting registry, repository and tag', () => {
    expect(parseImageReference('registry.ghostwritten.com/library/busybox:1.36.1')).toEqual({
      registry: 'registry.ghostwritten.com',
      repository: 'library/busybox',
      tag: '1.36.1',
      text: 'registry.ghostwritten.com/library/busybox:1.36.1',
    });
    expect(parseImageReference('registry.ghostwritten.com/registry:latest')).toMatchObject({
      registry: 'registry.ghostwritten.com',
      repository: 'registry',
      tag: 'latest',
    });
    expect(parseImageReference('registry.ghostwritten.com/demo/nginx:1.26')).toMatchObject({
      repository: 'demo/nginx',
      tag: '1.26',
    });
  });

  it('a registry given as IP and port', () => {
    expect(parseImageReference('127.0.0.1:5000/demo/nginx:noexist')).toEqual({
      registry: '127.0.0.1:5000',
      repository: 'demo/nginx',
      tag: 'noexist',
      text: '127.0.0.1:5000/demo/nginx:noexist',
    });
  });

  it('localhost with and without a port', () => {
    expect(parseImageReference('localhost:5000/app:1').registry).toBe('localhost:5000');
    expect(parseImageReference('localhost/app:1').registry).toBe('localhost');
  });

  it('a bracketed IPv6 registry host', () => {
    expect(parseImageReference('[::1]:5000/team/app:v2')).toMatchObject({ registry: '[::1]:5000', repository: 'team/app' });
    expect(parseImageReference('[FD00::5]/app:1').registry).toBe('[fd00::5]');
  });

  it('nested repository paths with all the allowed separators', () => {
    const ref = parseImageReference('registry.example.com/team/app/api:2024.01_rc-1');
    expect(ref.repository).toBe('team/app/api');
    expect(ref.tag).toBe('2024.01_rc-1');
    expect(parseImageReference('registry.example.com/a.b/c_d/e__f/g-h/i---j:t').repository).toBe('a.b/c_d/e__f/g-h/i---j');
  });

  it('a sha256 digest instead of a tag', () => {
    expect(parseImageReference(`registry.example.com/library/busybox@sha256:${HEX}`)).toEqual({
      registry: 'registry.example.com',
      repository: 'library/busybox',
      digest: `sha256:${HEX}`,
      text: `registry.example.com/library/busybox@sha256:${HEX}`,
    });
  });

  it('a sha512 digest', () => {
    expect(parseImageReference(`r.example.com/app@sha512:${HEX}${HEX}`).digest).toBe(`sha512:${HEX}${HEX}`);
  });

  it('a host in any case, printing it lowercased so duplicates are recognised', () => {
    expect(parseImageReference('Registry.Example.COM/app:V1').text).toBe('registry.example.com/app:V1');
  });

  it('surrounding whitespace', () => {
    expect(parseImageReference('  registry.example.com/app:1\t').text).toBe('registry.example.com/app:1');
  });

  it('a tag of exactly 128 characters and a name of exactly 255', () => {
    expect(parseImageReference(`r.example.com/app:${'t'.repeat(128)}`).tag).toHaveLength(128);
    const name = `r.example.com/${'a'.repeat(255 - 'r.example.com/'.length)}`;
    expect(parseImageReference(`${name}:1`).repository).toHaveLength(255 - 'r.example.com/'.length);
  });
});

describe('parseImageReference rejects, saying what is wrong and how to write it', () => {
  it('a reference without a registry host', () => {
    expect(rejection('library/busybox:1.36')).toBe(
      'no registry host: "library/busybox:1.36" must start with host[:port]/ (e.g. registry.example.com/library/busybox:1.36)',
    );
    expect(rejection('busybox:1.36')).toContain('no registry host');
  });

  it('a registry host with no repository', () => {
    expect(rejection('localhost:5000')).toContain('has no repository');
  });

  it('a reference without a tag, suggesting :latest explicitly', () => {
    const message = rejection('registry.example.com/library/busybox');
    expect(message).toContain('no tag or digest');
    expect(message).toContain('"registry.example.com/library/busybox:latest"');
  });

  it('an empty tag or digest after its separator', () => {
    expect(rejection('registry.example.com/app:')).toContain('empty tag after ":"');
    expect(rejection('registry.example.com/app@')).toContain('empty digest after "@"');
  });

  it('uppercase in the repository path, showing the lowercase spelling', () => {
    expect(rejection('registry.example.com/Library/busybox:1')).toBe(
      'path component "Library" must be lowercase: write "library"',
    );
  });

  it('".." and "." path components', () => {
    expect(rejection('registry.example.com/../etc:1')).toContain('path component ".." in');
    expect(rejection('registry.example.com/./app:1')).toContain('path component "." in');
  });

  it('percent-encoded text such as %2e%2e', () => {
    expect(rejection('registry.example.com/%2e%2e/app:1')).toBe(
      '"%2e%2e" contains "%": percent-encoding (such as %2e) is not allowed; write the characters themselves',
    );
  });

  it('an absolute path with no host', () => {
    expect(rejection('/abs/app:1')).toContain('"/abs/app:1" starts with "/": begin with the registry host');
  });

  it('backslashes', () => {
    expect(rejection('registry.example.com\\library\\busybox:1')).toContain('contains a backslash: separate path components with "/"');
  });

  it('shell metacharacters, naming the character and where it is', () => {
    expect(rejection('registry.example.com/app:1;rm -rf /')).toMatch(/^"app:1;rm -rf " contains ";", which cannot appear/);
    expect(rejection('registry.example.com/$(id):1')).toMatch(/^"\$\(id\):1" contains "\$", which cannot appear/);
    expect(rejection('registry.example.com/app:`id`')).toContain('contains "`"');
  });

  it('spaces and tabs inside a reference, showing them visibly', () => {
    expect(rejection('registry.example.com/my app:1')).toBe(
      '"my app:1" contains whitespace (" "): an image reference cannot contain spaces; write one reference per line',
    );
    expect(rejection('registry.example.com/app\t:1')).toContain('whitespace ("\\t")');
  });

  it('control characters, escaped so they are visible', () => {
    expect(rejection('registry.example.com/app:1\u0000')).toContain('"\\u0000"');
  });

  it('a tag longer than 128 characters', () => {
    expect(rejection(`registry.example.com/app:${'x'.repeat(129)}`)).toContain('is 129 characters long; at most 128 are allowed');
  });

  it('a tag starting with "." or "-"', () => {
    expect(rejection('registry.example.com/app:.hidden')).toBe('tag ".hidden" must start with a letter, digit or "_", not "."');
    expect(rejection('registry.example.com/app:-rc')).toBe('tag "-rc" must start with a letter, digit or "_", not "-"');
  });

  it('a tag with a character tags cannot contain', () => {
    expect(rejection('registry.example.com/app:v[1]')).toContain('tag "v[1]" contains "["');
  });

  it('a digest algorithm other than sha256 or sha512', () => {
    expect(rejection('registry.example.com/app@md5:0123456789abcdef')).toBe(
      'unsupported digest algorithm "md5": use sha256 (or sha512)',
    );
    expect(rejection(`registry.example.com/app@SHA256:${HEX}`)).toContain('write "sha256" in lowercase');
  });

  it('a digest without an algorithm', () => {
    expect(rejection(`registry.example.com/app@${HEX}`)).toContain('must be algorithm:hex');
  });

  it('a digest of the wrong length', () => {
    expect(rejection('registry.example.com/app@sha256:abc123abc123')).toBe('sha256 digest must have 64 hex characters, got 12');
    expect(rejection(`registry.example.com/app@sha256:${HEX}0`)).toContain('got 65');
  });

  it('a digest with uppercase or non-hex characters', () => {
    expect(rejection(`registry.example.com/app@sha256:${HEX.toUpperCase()}`)).toContain(
      `sha256 digest must be lowercase hex: write "sha256:${HEX}"`,
    );
    expect(rejection(`registry.example.com/app@sha256:${'g'.repeat(64)}`)).toContain('contains "g", which is not a hex digit');
  });

  it('a tag and a digest together', () => {
    expect(rejection(`registry.example.com/app:1.0@sha256:${HEX}`)).toMatch(/^give either a tag or a digest, not both/);
  });

  it('more than one "@"', () => {
    expect(rejection(`registry.example.com/app@sha256:${HEX}@x`)).toContain('more than one "@"');
  });

  it('ports that are 0, too large or not numbers', () => {
    expect(rejection('registry.example.com:0/app:1')).toBe('port 0 in "registry.example.com:0" is out of range: use a port from 1 to 65535');
    expect(rejection('registry.example.com:99999/app:1')).toContain('port 99999 in "registry.example.com:99999" is out of range');
    expect(rejection('registry.example.com:http/app:1')).toContain('port "http" in "registry.example.com:http" is not a number');
    expect(rejection('registry.example.com:/app:1')).toContain('empty port');
  });

  it('a malformed registry host', () => {
    expect(rejection('registry..example.com/app:1')).toContain('has an empty label');
    expect(rejection('-registry.example.com/app:1')).toContain('label "-registry" must start and end with a letter or digit');
    expect(rejection('my_registry.example.com/app:1')).toContain('contains "_": host names use only');
  });

  it('an IPv6 host that is unbracketed, unclosed or invalid', () => {
    expect(rejection('::1/app:1')).toContain('write IPv6 addresses in brackets');
    expect(rejection('[::1/app:1')).toContain('missing its closing "]"');
    expect(rejection('[fe::1::2]/app:1')).toContain('is not a valid IPv6 address');
  });

  it('a name longer than 255 characters, without echoing all of it', () => {
    const message = rejection(`registry.example.com/${'abcdefgh/'.repeat(30)}app:1`);
    expect(message).toContain('is 294 characters long; at most 255 are allowed');
    expect(message.length).toBeLessThan(220);
  });

  it('empty path components from "//" or a trailing "/"', () => {
    expect(rejection('registry.example.com//app:1')).toContain('empty path component in "registry.example.com//app:1"');
    expect(rejection('registry.example.com/app/:1')).toContain('empty path component');
    expect(rejection('registry.example.com/:1')).toContain('has no repository after the registry host');
  });

  it('path components with separators at the ends or in bad runs', () => {
    expect(rejection('registry.example.com/-app:1')).toBe('path component "-app" must start and end with a lowercase letter or digit');
    expect(rejection('registry.example.com/app_:1')).toContain('must start and end');
    expect(rejection('registry.example.com/a..b:1')).toContain('path component "a..b" has the separator ".."');
    expect(rejection('registry.example.com/a___b:1')).toContain('has the separator "___"');
    expect(rejection('registry.example.com/a._b:1')).toContain('has the separator "._"');
  });

  it('an empty reference', () => {
    expect(rejection('   ')).toContain('empty image reference');
  });
});
