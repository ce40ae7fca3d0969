import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { repoRoot } from './measure.js';

export interface MachineInfo {
  cpus: number;
  cpuModel: string;
  memoryGb: number;
  os: string;
  kernel: string;
  node: string;
  registry: string;
  skopeo: string | undefined;
  rcCommit: string | undefined;
  /** True when src/ differs from the commit (dist/ was built from the working tree). */
  rcWorkingTreeModified: boolean | undefined;
  /** When dist/ (what `bin/run.cjs` runs) was built. */
  distBuiltAt: string | undefined;
  /** 1-minute load average when the benchmark started and ended: other work on the machine skews every figure. */
  loadAverage: { start: number; end?: number };
  date: string;
}

function tryRun(command: string, args: string[]): string | undefined {
  try {
    return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], cwd: repoRoot }).trim();
  } catch {
    return undefined;
  }
}

function osName(): string {
  try {
    return /^PRETTY_NAME="?([^"\n]*)"?/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? os.type();
  } catch {
    return os.type();
  }
}

export function machineInfo(): MachineInfo {
  let modified: boolean | undefined;
  try {
    // Read-only: --no-optional-locks keeps git from refreshing the index.
    execFileSync('git', ['--no-optional-locks', 'diff', '--quiet', 'HEAD', '--', 'src'], { cwd: repoRoot, stdio: 'ignore' });
    modified = false;
  } catch (error) {
    modified = (error as { status?: number }).status === 1 ? true : undefined;
  }
  return {
    cpus: os.availableParallelism(),
    cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
    memoryGb: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: osName(),
    kernel: os.release(),
    node: process.version,
    registry: tryRun('docker-registry', ['--version']) ?? 'unknown',
    skopeo: existsSync('/usr/bin/skopeo') || tryRun('sh', ['-c', 'command -v skopeo']) ? tryRun('skopeo', ['--version']) : undefined,
    rcCommit: tryRun('git', ['--no-optional-locks', 'rev-parse', '--short', 'HEAD']),
    rcWorkingTreeModified: modified,
    distBuiltAt: distTime(),
    loadAverage: { start: Math.round(os.loadavg()[0]! * 100) / 100 },
    date: new Date().toISOString(),
  };
}

function distTime(): string | undefined {
  try {
    return statSync(path.join(repoRoot, 'dist', 'bundle', 'rc.cjs')).mtime.toISOString();
  } catch {
    return undefined;
  }
}
