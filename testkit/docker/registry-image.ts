import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { accessSync, chmodSync, constants, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { DockerCommandError, docker } from './docker-cli.js';
import type { DockerEngine } from './docker-engine.js';

/**
 * A `registry` image like the official one, assembled from this machine's files with
 * `docker import` (no image can be pulled here): Debian's distribution 2.8 as /bin/registry
 * with the libraries `ldd` names, busybox with every applet in /bin, the official config, and
 * the official ENTRYPOINT/CMD/VOLUME.
 */

/** Where registry:2 keeps its config. */
export const REGISTRY_2_CONFIG_PATH = '/etc/docker/registry/config.yml';
/** Where registry:3 keeps its config (the binary is still 2.8: only the layout is 3.x-like). */
export const REGISTRY_3_CONFIG_PATH = '/etc/distribution/config.yml';

export interface RegistryImageOptions {
  /** Friendly tag, re-pointed at the current build; default `rc-test/registry:2.8` (`rc-test/registry:3-layout` for the 3.x path). */
  tag?: string;
  /** Config path baked into the image and its CMD; default `REGISTRY_2_CONFIG_PATH`. */
  configPath?: string;
}

export interface RegistryImage {
  /** Content-addressed reference (`<tag>-<recipe hash>`): a changed recipe or binary is a new image. */
  readonly reference: string;
  /** The friendly tag, pointing at `reference`. */
  readonly tag: string;
  readonly configPath: string;
  /** What `registry --version` prints after the program name: `github.com/docker/distribution 2.8.2+ds1`. */
  readonly version: string;
}

/** The official images' configs: registry:2 leaves deletion off, registry:3 turns it on. */
function officialConfig(configPath: string): string {
  const deleteBlock = configPath === REGISTRY_3_CONFIG_PATH ? ['  delete:', '    enabled: true'] : [];
  return [
    'version: 0.1',
    'log:',
    '  fields:',
    '    service: registry',
    'storage:',
    ...deleteBlock,
    '  cache:',
    '    blobdescriptor: inmemory',
    '  filesystem:',
    '    rootdirectory: /var/lib/registry',
    'http:',
    '  addr: :5000',
    '  headers:',
    '    X-Content-Type-Options: [nosniff]',
    'health:',
    '  storagedriver:',
    '    enabled: true',
    '    interval: 10s',
    '    threshold: 3',
    '',
  ].join('\n');
}

// Bump when the recipe changes in a way the hashed inputs don't show.
const RECIPE_VERSION = '1';
const PATH_ENV = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

const execFileAsync = promisify(execFile);

function which(command: string, fallbacks: string[]): string {
  const candidates = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean).map((dir) => join(dir, command)), ...fallbacks];
  for (const path of candidates) {
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // next
    }
  }
  throw new Error(`${command} is not installed: run scripts/install-deps.sh`);
}

/** The shared libraries (and loader) `ldd` says a binary needs, by the absolute path it loads them from. */
async function sharedLibraries(binary: string): Promise<string[]> {
  let stdout: string;
  try {
    ({ stdout } = await execFileAsync('ldd', [binary], { encoding: 'utf8' }));
  } catch (error) {
    // A static binary: ldd says "not a dynamic executable" and exits 1.
    const output = `${(error as { stdout?: string }).stdout ?? ''}${(error as { stderr?: string }).stderr ?? ''}`;
    if (/not a dynamic executable|statically linked/.test(output)) return [];
    throw error;
  }
  const libraries: string[] = [];
  for (const line of stdout.split('\n')) {
    // "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x…)" or "/lib64/ld-linux-x86-64.so.2 (0x…)"; vdso has no file.
    const match = line.match(/=>\s*(\/\S+)/) ?? line.match(/^\s*(\/\S+)\s+\(/);
    if (match?.[1]) libraries.push(match[1]);
  }
  return libraries;
}

interface Recipe {
  /** rootfs path → host file copied there (symlinks followed). */
  files: Map<string, string>;
  applets: string[];
  configPath: string;
  config: string;
  changes: string[];
  version: string;
  hash: string;
}

async function recipe(configPath: string): Promise<Recipe> {
  const registry = which('docker-registry', ['/usr/bin/docker-registry']);
  const busybox = which('busybox', ['/bin/busybox', '/usr/bin/busybox']);
  const files = new Map<string, string>([
    ['/bin/registry', registry],
    ['/bin/busybox', busybox],
  ]);
  for (const library of [...(await sharedLibraries(registry)), ...(await sharedLibraries(busybox))]) files.set(library, library);
  const applets = (await execFileAsync(busybox, ['--list'], { encoding: 'utf8' })).stdout.split('\n').filter((name) => /^[\w.[-]+$/.test(name) && name !== 'busybox');
  // "docker-registry github.com/docker/distribution 2.8.2+ds1": the first word is argv[0], so drop it.
  const version = (await execFileAsync(registry, ['--version'], { encoding: 'utf8' })).stdout.trim().replace(/^\S+\s+/, '');
  const config = officialConfig(configPath);
  const changes = [
    `ENV PATH=${PATH_ENV}`,
    'ENTRYPOINT ["/bin/registry"]',
    `CMD ${JSON.stringify(['serve', configPath])}`,
    'VOLUME ["/var/lib/registry"]',
    'EXPOSE 5000',
  ];
  const hash = createHash('sha256');
  hash.update(JSON.stringify({ RECIPE_VERSION, configPath, config, changes, applets }));
  for (const [target, source] of [...files].sort()) hash.update(`${target}\0`).update(readFileSync(source));
  return { files, applets, configPath, config, changes, version, hash: hash.digest('hex').slice(0, 12) };
}

function defaultTag(configPath: string): string {
  return configPath === REGISTRY_3_CONFIG_PATH ? 'rc-test/registry:3-layout' : 'rc-test/registry:2.8';
}

/** `repo:tag` → `repo:tag-<hash>`; a bare `repo` → `repo:<hash>`. */
function contentReference(tag: string, hash: string): string {
  const lastSegment = tag.slice(tag.lastIndexOf('/') + 1);
  return lastSegment.includes(':') ? `${tag}-${hash}` : `${tag}:${hash}`;
}

async function imageExists(engine: DockerEngine, reference: string): Promise<boolean> {
  try {
    await docker(['image', 'inspect', '--format', '{{.Id}}', reference], engine.env);
    return true;
  } catch (error) {
    if (error instanceof DockerCommandError && /no such image/i.test(error.stderr)) return false;
    throw error;
  }
}

async function build(engine: DockerEngine, spec: Recipe, reference: string): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'rc-registry-image-'));
  try {
    const root = join(work, 'rootfs');
    for (const dir of ['bin', 'etc', 'var/lib/registry', 'tmp']) mkdirSync(join(root, dir), { recursive: true });
    chmodSync(join(root, 'tmp'), 0o1777);
    for (const [target, source] of spec.files) {
      mkdirSync(join(root, dirname(target)), { recursive: true });
      copyFileSync(source, join(root, target));
    }
    for (const applet of spec.applets) if (applet !== 'registry') symlinkSync('busybox', join(root, 'bin', applet));
    mkdirSync(join(root, dirname(spec.configPath)), { recursive: true });
    writeFileSync(join(root, spec.configPath), spec.config);

    const tarball = join(work, 'rootfs.tar');
    // Owned by root whoever builds it, as an image's files are.
    await execFileAsync('tar', ['--sort=name', '--owner=0', '--group=0', '--numeric-owner', '--mtime=@0', '-C', root, '-cf', tarball, '.']);
    await docker(['import', ...spec.changes.flatMap((change) => ['--change', change]), '--message', `rc-test registry recipe ${spec.hash}`, tarball, reference], engine.env);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

const built = new Map<string, Promise<RegistryImage>>();

/**
 * The registry image, built on first use and reused after (also across processes: the
 * content-addressed reference is looked up first). Idempotent.
 */
export function ensureRegistryImage(engine: DockerEngine, options: RegistryImageOptions = {}): Promise<RegistryImage> {
  const configPath = options.configPath ?? REGISTRY_2_CONFIG_PATH;
  const tag = options.tag ?? defaultTag(configPath);
  const key = JSON.stringify([engine.host, tag, configPath]);
  let pending = built.get(key);
  if (!pending) {
    pending = (async () => {
      const spec = await recipe(configPath);
      const reference = contentReference(tag, spec.hash);
      if (!(await imageExists(engine, reference))) await build(engine, spec, reference);
      await docker(['tag', reference, tag], engine.env);
      return { reference, tag, configPath, version: spec.version };
    })();
    built.set(key, pending);
    pending.catch(() => built.delete(key));
  }
  return pending;
}
