/**
 * `npm run bench`: rc against the real registry binary, next to the registry's own ceiling,
 * a minimal safe client, skopeo and the seed walkthrough's script, on the same data.
 * See bench/README.md for what is measured and how the floor is defined.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { machineInfo } from './machine.js';
import { freezeRc, repoRoot } from './measure.js';
import { parseOptions, usage } from './options.js';
import { computeTargets, renderMarkdown, type BenchResults } from './report.js';
import { runEntry } from './run-entry.js';
import { rcBuilt, runScenario } from './scenario.js';

function has(command: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const log = (line: string): void => {
  process.stderr.write(`bench: ${line}\n`);
};

async function main(): Promise<number> {
  let options;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${usage}`);
    return 2;
  }
  if (options.help) {
    process.stdout.write(usage);
    return 0;
  }
  if (!rcBuilt()) {
    log('dist/ is missing: run `npm run build` first (`npm run bench` does)');
    return 1;
  }
  for (const needed of ['docker-registry', 'curl', 'jq']) {
    if (!has(needed) && !(needed !== 'docker-registry' && options.skipSeed)) {
      log(`${needed} is not installed (./scripts/install-deps.sh installs docker-registry and skopeo; apt-get install curl jq)`);
      return 1;
    }
  }
  const skopeo = !options.skipSkopeo && has('skopeo');
  if (!options.skipSkopeo && !skopeo) log('skopeo is not installed: skipping the skopeo comparison');

  const started = performance.now();
  const machine = machineInfo();
  freezeRc();
  log(`${machine.cpus} CPUs (${machine.cpuModel}), Node ${machine.node}, ${machine.registry}`);
  if (machine.loadAverage.start > machine.cpus / 2) {
    log(`warning: load average ${machine.loadAverage.start} on ${machine.cpus} CPUs: other work on this machine will skew every figure`);
  }
  const main = await runScenario({
    repositories: options.repositories,
    tags: options.tags,
    concurrency: options.concurrency,
    ceilingRequests: options.ceilingRequests,
    runs: options.runs,
    full: true,
    concurrencySweep: options.concurrencySweep,
    fill: 'full',
    gc: !options.skipGc,
    skopeo: skopeo ? { sample: options.skopeoSample } : false,
    seed: options.skipSeed ? false : { sample: options.seedSample },
    log,
  });
  let scaled;
  if (options.rssScale > 1) {
    log(`growth pass: ${options.rssScale}x the repositories, ${options.growthFill} fill`);
    scaled = await runScenario({
      repositories: options.repositories * options.rssScale,
      tags: options.tags,
      concurrency: options.concurrency,
      ceilingRequests: options.ceilingRequests,
      runs: 1,
      full: false,
      concurrencySweep: [],
      fill: options.growthFill,
      gc: false,
      skopeo: false,
      seed: false,
      log,
    });
  }
  machine.loadAverage.end = Math.round(os.loadavg()[0]! * 100) / 100;
  const results: BenchResults = {
    machine,
    options,
    main,
    ...(scaled && { scaled }),
    targets: computeTargets(main, scaled),
    totalSeconds: (performance.now() - started) / 1000,
  };
  const markdown = renderMarkdown(results);
  const dir = path.resolve(repoRoot, options.resultsDir);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(path.join(dir, 'latest.md'), markdown);
  process.stdout.write(`\n${markdown}`);
  log(`wrote ${path.relative(process.cwd(), path.join(dir, 'latest.md'))} and latest.json`);
  return 0;
}

// Ctrl-C: exit through process.exit, so the test kit's exit hook kills the registries and the
// scenario's exit hook removes its temporary directories.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(`${signal}: stopping`);
    process.exit(130);
  });
}

await runEntry(main, log);
