import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A fake `docker-credential-<name>` (the docker credential-helper protocol): `get` reads the
 * registry host on stdin, logs it, and answers `{ ServerURL, Username, Secret }` for the hosts
 * it knows; for any other host it says "credentials not found" and exits 1, like the real ones.
 * Put `binDir` first on PATH.
 */
export interface FakeCredentialHelper {
  /** `docker-credential-<name>` */
  readonly executable: string;
  /** Every server address it was asked for, in order (one `get` each). */
  asked(): string[];
}

export function installFakeCredentialHelper(binDir: string, name: string, answers: Record<string, { Username: string; Secret: string }>): FakeCredentialHelper {
  if (!/^[a-z0-9-]+$/.test(name)) throw new Error(`helper name must be [a-z0-9-]+: ${name}`);
  mkdirSync(binDir, { recursive: true });
  const executable = join(binDir, `docker-credential-${name}`);
  const log = join(binDir, `docker-credential-${name}.log`);
  writeFileSync(log, '');
  const quote = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;
  const cases = Object.entries(answers)
    .map(([host, answer]) => `  ${quote(host)}) printf '%s\\n' ${quote(JSON.stringify({ ServerURL: host, ...answer }))} ;;`)
    .join('\n');
  writeFileSync(
    executable,
    [
      '#!/bin/sh',
      `# fake docker-credential-${name} written by registry-clean's testkit`,
      '[ "$1" = get ] || { echo "unsupported: $1" >&2; exit 1; }',
      'server=$(cat)',
      `printf '%s\\n' "$server" >> ${quote(log)}`,
      'case "$server" in',
      cases,
      '  *) echo "credentials not found in native keychain"; exit 1 ;;',
      'esac',
      '',
    ].join('\n'),
  );
  chmodSync(executable, 0o755);
  return {
    executable,
    asked: () => readFileSync(log, 'utf8').split('\n').filter(Boolean),
  };
}
