import { isIPv6 } from 'node:net';

/**
 * One image to delete, parsed per the distribution reference grammar
 * (github.com/distribution/reference, regexp.go), but stricter: the registry
 * host and a tag or digest are required, because a deletion tool must never
 * guess which registry or which version is meant.
 */
export interface ImageReference {
  /** `host[:port]` as the registry is addressed, host lowercased. */
  registry: string;
  /** Repository path without the host, e.g. `library/busybox`. */
  repository: string;
  tag?: string;
  digest?: string;
  /** Canonical form: `registry/repository:tag` or `registry/repository@digest`. */
  text: string;
}

/**
 * The input itself when it is already canonical (the usual case): one string instead of a chain
 * of concatenations, which for a list of 50,000 images is megabytes.
 */
function sameOrNew(input: string, canonical: string): string {
  return input === canonical ? input : canonical;
}

/** A reference that does not follow the grammar; the message says what is wrong and how to write it. */
export class ReferenceSyntaxError extends Error {
  readonly input: string;

  constructor(message: string, input: string) {
    super(message);
    this.name = 'ReferenceSyntaxError';
    this.input = input;
  }
}

const NAME_MAX = 255;
const TAG_MAX = 128;
const FORM = 'host[:port]/repository:tag or host[:port]/repository@sha256:<64 hex characters>';
const DIGEST_HEX_LENGTH: Record<string, number> = { sha256: 64, sha512: 128 };

const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN_COMPONENT = /^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
/** Every character the grammar can use anywhere; anything else is rejected up front, by name. */
const REFERENCE_CHAR = /[A-Za-z0-9._\-/:@[\]]/;

/**
 * Quote text for an error message: JSON escapes make control characters visible,
 * and long text is cut so one bad line cannot flood the terminal.
 */
export function quote(text: string, max = 80): string {
  return text.length <= max ? JSON.stringify(text) : `${JSON.stringify(text.slice(0, max))}…`;
}

function fail(message: string, input: string): never {
  throw new ReferenceSyntaxError(message, input);
}

export function parseImageReference(input: string): ImageReference {
  const ref = input.trim();
  if (ref === '') fail(`empty image reference: write ${FORM}`, input);
  checkCharacters(ref);

  // name[:tag][@digest]; a ":" before the last "/" belongs to the host's port.
  const at = ref.indexOf('@');
  if (at !== ref.lastIndexOf('@')) fail(`${quote(ref)} has more than one "@": write ${FORM}`, ref);
  const beforeDigest = at === -1 ? ref : ref.slice(0, at);
  const digest = at === -1 ? undefined : ref.slice(at + 1);
  const colon = beforeDigest.lastIndexOf(':');
  const hasTag = colon > beforeDigest.lastIndexOf('/');
  const name = hasTag ? beforeDigest.slice(0, colon) : beforeDigest;
  const tag = hasTag ? beforeDigest.slice(colon + 1) : undefined;

  if (tag !== undefined && digest !== undefined) {
    fail(`give either a tag or a digest, not both: ${quote(ref)} has tag ${quote(tag)} and a digest`, ref);
  }
  const { registry, repository } = parseName(name, ref);

  const fullName = `${registry}/${repository}`;
  if (fullName.length > NAME_MAX) {
    fail(`image name ${quote(fullName)} is ${fullName.length} characters long; at most ${NAME_MAX} are allowed for host/path`, ref);
  }
  if (tag === undefined && digest === undefined) {
    fail(
      `no tag or digest: ${quote(ref)} does not say which image to delete; ` +
        `add one explicitly, e.g. ${quote(`${fullName}:latest`)} (rc never assumes :latest)`,
      ref,
    );
  }
  if (tag !== undefined) {
    checkTag(tag, ref);
    return { registry, repository, tag, text: sameOrNew(ref, `${fullName}:${tag}`) };
  }
  const checkedDigest = checkDigest(digest ?? '', ref);
  return { registry, repository, digest: checkedDigest, text: sameOrNew(ref, `${fullName}@${checkedDigest}`) };
}

/** Reject characters no reference may contain (spaces, shell metacharacters, `%`, `\`, ...) naming the component they are in. */
function checkCharacters(ref: string): void {
  for (let i = 0; i < ref.length; i++) {
    const ch = ref[i] ?? '';
    if (REFERENCE_CHAR.test(ch)) continue;
    const start = ref.lastIndexOf('/', i) + 1;
    const end = ref.indexOf('/', i);
    const where = quote(ref.slice(start, end === -1 ? undefined : end));
    if (/\s/.test(ch)) {
      fail(`${where} contains whitespace (${JSON.stringify(ch)}): an image reference cannot contain spaces; write one reference per line`, ref);
    }
    if (ch === '%') {
      fail(`${where} contains "%": percent-encoding (such as %2e) is not allowed; write the characters themselves`, ref);
    }
    if (ch === '\\') fail(`${where} contains a backslash: separate path components with "/"`, ref);
    fail(
      `${where} contains ${JSON.stringify(ch)}, which cannot appear in an image reference ` +
        `(allowed: letters, digits, ".", "_", "-", "/", ":", "@")`,
      ref,
    );
  }
}

/** Split `host[:port]/path` and check both parts. */
function parseName(name: string, ref: string): { registry: string; repository: string } {
  if (name === '') fail(`${quote(ref)} has no image name: write ${FORM}`, ref);
  const slash = name.indexOf('/');
  const first = slash === -1 ? name : name.slice(0, slash);
  if (first === '') {
    fail(`${quote(ref)} starts with "/": begin with the registry host, e.g. registry.example.com${ref}`, ref);
  }
  // Like the distribution grammar: the first component is a host only if it looks like one.
  const looksLikeHost = first.includes('.') || first.includes(':') || first === 'localhost' || first.startsWith('[');
  if (!looksLikeHost) {
    fail(`no registry host: ${quote(ref)} must start with host[:port]/ (e.g. registry.example.com/${ref})`, ref);
  }
  if (slash === -1) {
    fail(`${quote(ref)} has no repository: write ${FORM}, e.g. registry.example.com/library/busybox:1.36`, ref);
  }
  const repository = name.slice(slash + 1);
  if (repository === '') fail(`${quote(ref)} has no repository after the registry host: write ${FORM}`, ref);
  for (const component of repository.split('/')) checkPathComponent(component, ref);
  return { registry: parseHost(first, ref), repository };
}

/**
 * A registry given on its own (`--registry`, a config key): `host[:port]` with the host
 * lowercased. Throws ReferenceSyntaxError saying what is wrong.
 */
export function parseRegistryHost(input: string): string {
  if (input.includes('/')) fail(`${quote(input)} is not a registry host: write host[:port] alone, e.g. registry.example.com:5000 (no scheme, no path)`, input);
  return parseHost(input, input);
}

/** Check `host[:port]`; return it with the host lowercased (hosts are case-insensitive). */
function parseHost(hostPort: string, ref: string): string {
  let host: string;
  let port: string | undefined;
  if (hostPort.startsWith('[')) {
    const close = hostPort.indexOf(']');
    if (close === -1) fail(`IPv6 host ${quote(hostPort)} is missing its closing "]": write e.g. [::1]:5000/`, ref);
    host = hostPort.slice(0, close + 1);
    const rest = hostPort.slice(close + 1);
    if (rest !== '' && !rest.startsWith(':')) {
      fail(`unexpected ${quote(rest)} after IPv6 host ${host}: write [address]:port, e.g. [::1]:5000`, ref);
    }
    port = rest === '' ? undefined : rest.slice(1);
    if (!isIPv6(host.slice(1, -1))) fail(`${quote(host)} is not a valid IPv6 address, e.g. [::1] or [fd00::5]`, ref);
  } else {
    const parts = hostPort.split(':');
    if (parts.length > 2) {
      fail(`registry host ${quote(hostPort)} has more than one ":": write IPv6 addresses in brackets, e.g. [::1]:5000`, ref);
    }
    host = parts[0] ?? '';
    port = parts[1];
    checkDomain(host, hostPort, ref);
  }
  if (port !== undefined) checkPort(port, hostPort, ref);
  return host.toLowerCase() + (port === undefined ? '' : `:${port}`);
}

function checkDomain(host: string, hostPort: string, ref: string): void {
  if (host === '') fail(`registry host is missing before ":" in ${quote(hostPort)}: write host:port, e.g. localhost:5000`, ref);
  for (const label of host.split('.')) {
    if (DOMAIN_COMPONENT.test(label)) continue;
    if (label === '') fail(`registry host ${quote(host)} has an empty label: remove the leading, trailing or doubled "."`, ref);
    const bad = /[^a-zA-Z0-9-]/.exec(label);
    if (bad) fail(`registry host ${quote(host)} contains ${quote(bad[0])}: host names use only letters, digits, "-" and "."`, ref);
    fail(`registry host label ${quote(label)} must start and end with a letter or digit`, ref);
  }
}

function checkPort(port: string, hostPort: string, ref: string): void {
  if (port === '') fail(`empty port in ${quote(hostPort)}: write a port number after ":" (e.g. localhost:5000) or drop the ":"`, ref);
  if (!/^[0-9]+$/.test(port)) fail(`port ${quote(port)} in ${quote(hostPort)} is not a number: use a port from 1 to 65535`, ref);
  const value = Number(port);
  if (value < 1 || value > 65535) fail(`port ${port} in ${quote(hostPort)} is out of range: use a port from 1 to 65535`, ref);
}

/** Explain exactly why one `/`-separated repository component breaks the grammar. */
function checkPathComponent(component: string, ref: string): void {
  if (PATH_COMPONENT.test(component)) return;
  if (component === '') fail(`empty path component in ${quote(ref)}: remove the doubled or trailing "/"`, ref);
  if (component === '.' || component === '..') {
    fail(`path component ${quote(component)} in ${quote(ref)} is not allowed: write the repository path without "." or ".."`, ref);
  }
  if (/[A-Z]/.test(component)) {
    fail(`path component ${quote(component)} must be lowercase: write ${quote(component.toLowerCase())}`, ref);
  }
  const bad = /[^a-z0-9._-]/.exec(component);
  if (bad) {
    fail(`path component ${quote(component)} contains ${quote(bad[0])}: repository paths use only a-z, 0-9, ".", "_" and "-"`, ref);
  }
  if (/^[._-]|[._-]$/.test(component)) {
    fail(`path component ${quote(component)} must start and end with a lowercase letter or digit`, ref);
  }
  // Characters and ends are fine, so some run of separators must be the problem.
  const separator = component.match(/[._-]+/g)?.find((run) => !/^(?:[._]|__|-+)$/.test(run)) ?? '';
  fail(
    `path component ${quote(component)} has the separator ${quote(separator)}: ` +
      `between letters and digits use one ".", one or two "_", or a run of "-"`,
    ref,
  );
}

function checkTag(tag: string, ref: string): void {
  if (TAG.test(tag)) return;
  if (tag === '') fail(`empty tag after ":" in ${quote(ref)}: write a tag such as :latest, or remove the ":"`, ref);
  if (tag.length > TAG_MAX) fail(`tag ${quote(tag)} is ${tag.length} characters long; at most ${TAG_MAX} are allowed`, ref);
  const first = tag[0] ?? '';
  if (!/[A-Za-z0-9_]/.test(first)) fail(`tag ${quote(tag)} must start with a letter, digit or "_", not ${quote(first)}`, ref);
  const bad = /[^A-Za-z0-9_.-]/.exec(tag);
  fail(`tag ${quote(tag)} contains ${quote(bad?.[0] ?? '')}: tags use only letters, digits, "_", "." and "-"`, ref);
}

/** Accept only digests we can name exactly: sha256 (64 hex) or sha512 (128 hex), lowercase. */
function checkDigest(digest: string, ref: string): string {
  if (digest === '') fail(`empty digest after "@" in ${quote(ref)}: write @sha256:<64 hex characters>`, ref);
  const colon = digest.indexOf(':');
  if (colon === -1) fail(`digest ${quote(digest)} must be algorithm:hex, e.g. sha256:<64 hex characters>`, ref);
  const algorithm = digest.slice(0, colon);
  const hex = digest.slice(colon + 1);
  const length = DIGEST_HEX_LENGTH[algorithm];
  if (length === undefined) {
    const lower = algorithm.toLowerCase();
    const fix = lower in DIGEST_HEX_LENGTH ? `write ${quote(lower)} in lowercase` : 'use sha256 (or sha512)';
    fail(`unsupported digest algorithm ${quote(algorithm)}: ${fix}`, ref);
  }
  const bad = /[^0-9a-fA-F]/.exec(hex);
  if (bad) fail(`${algorithm} digest contains ${quote(bad[0])}, which is not a hex digit (0-9, a-f)`, ref);
  if (hex.length !== length) fail(`${algorithm} digest must have ${length} hex characters, got ${hex.length}`, ref);
  if (/[A-F]/.test(hex)) fail(`${algorithm} digest must be lowercase hex: write ${quote(`${algorithm}:${hex.toLowerCase()}`, 200)}`, ref);
  return digest;
}
