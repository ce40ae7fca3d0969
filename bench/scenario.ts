import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fillRegistry } from '../testkit/images.js';
import { startRegistry, type RegistryServer } from '../testkit/registry-server.js';
import { startCountingProxy, type RequestCounts } from './counting-proxy.js';
import { median, nearestMedian, repoRoot, runNodeScript, runProcess, runRc, stepTimes, type ProcessResult, type StepTime } from './measure.js';
import { cycle, MinimalClient, MANIFEST_ACCEPT, type RateResult } from './minimal-client.js';
import { removeScratch, scratchDir } from './scratch.js';
import { COLD_MINIMAL_LS } from './report.js';
import { StorageSnapshot } from './storage-snapshot.js';
import { fillRegistryLite } from './fill-lite.js';
import { fillRegistryStorage, verifyStorageFill } from './fill-storage.js';
import { createSeedContainer } from './seed-container.js';

/** One measured subject: what it did, how long, how much memory. */
export interface Measurement {
  /** Requests it made (counted by the proxy; extrapolated from the sample when sampled). */
  requests: number | undefined;
  /** Requests by route class, from the counted run (per sample when sampled). */
  mix?: Record<string, number>;
  /** Requests that repeated an earlier identical request, by class. */
  repeats?: Record<string, number>;
  /** rc's steps in the timed run (the median one), from its plain progress lines. */
  steps?: StepTime[];
  /** When each class of request was first and last seen, in ms after the process started. */
  timeline?: Record<string, { first: number; last: number }>;
  wallMs: number;
  /** Wall times of each timed run (the median is `wallMs`). */
  wallRunsMs?: number[];
  peakRssMb?: number;
  /** CPU time of the process (user + system; for the GC run with the garbage collector), ms. */
  cpuMs?: number;
  /** V8 heap in use at exit, MB. */
  heapAtExitMb?: number;
  /** Up to 20 points of [ms after start, RSS MB, heap used MB] over the timed run. */
  memoryCurve?: Array<[number, number, number]>;
  /** `/usr/bin/time -v`'s max RSS, which for the GC run includes the garbage collector process. */
  timeMaxRssMb?: number;
  /** Safety-required requests (see bench/README.md). */
  required?: number;
  /**
   * The floor, the median of the timed runs' own floors. A listing's: at the HEAD rate re-measured
   * right after the run. A clean's: at the rates of the minimal client's clean run beside it.
   */
  floorMs?: number;
  /** Each timed run's own floor, in the order of `wallRunsMs`: a run's ratio is its wall time over its floor. */
  floorRunsMs?: number[];
  /** A clean's floor as taken until 2026-12-07: the minimal client's one clean at the start, scaled by the bursts after each run. */
  floorByBurstsMs?: number;
  /** HEAD requests per second the registry answered right after each timed run (the listing floors scale with it, against `driftReference`). */
  ceilingAfterRuns?: number[];
  /** A clean's: the minimal client's clean run beside each timed run (in the order of `wallRunsMs`), that run's floor's rates. */
  besideRuns?: Array<{ totalMs: number; headPerSecond?: number; deletePerSecond: number; gcMs?: number; restartMs?: number }>;
  /** Items actually run when sampled (the figures are extrapolated to every deleted tag). */
  sample?: number;
  note?: string;
}

export interface ScenarioResult {
  repositories: number;
  tags: number;
  images: number;
  deleted: number;
  concurrency: number;
  fill: { ms: number; imagesPerSecond: number; kind: 'full' | 'lite' | 'storage' };
  ceiling: { head: RateResult; tagsList: RateResult };
  /**
   * HEADs per second of the drift bursts (median of three in a row) right after the rates the floors come
   * from: the ceiling's (the listing floor; and for the cleans' floors as taken until 2026-12-07, their
   * tags/list and HEAD parts), the minimal client's first clean (their DELETE part), and its GC and
   * restart (the GC run's). Each part of a timed run's floor scales by its reference over the burst
   * right after that run. (Absent from results written before the evening of 2026-12-06.)
   */
  driftReference?: { listing: number; clean: number; gc?: number };
  /** The minimal safe client's first clean, through the API alone: list, HEAD every tag, DELETE each listed digest. */
  minimal: MinimalClean & { gcMs?: number; restartMs?: number };
  startup: { lsMs: number; cleanMs: number; uncachedLsMs: number; uncachedCleanMs: number; rssMb: number | undefined; lsCpuMs: number | undefined; cleanCpuMs: number | undefined };
  /**
   * Floors at the rates of the start (the ceiling, the minimal client's first clean): the listing's before
   * scaling; `cleanMs`, a clean through the API alone (a HEAD per tag), the one skopeo and the seed are
   * set against; `cleanStorageMs`, with the storage proven (digests read from it). Each timed clean has
   * its own paired floor (`Measurement.floorRunsMs`). Results before 2026-12-07 may hold a `gcMs` too.
   */
  floors: { lsMs: number; cleanMs: number; cleanStorageMs: number };
  subjects: Record<string, Measurement>;
  /** rc ls and rc clean --no-gc at other concurrencies (one run each): what the default is chosen by. */
  sweep: ConcurrencyPoint[];
}

export interface ConcurrencyPoint {
  concurrency: number;
  lsMs: number;
  cleanMs: number;
  lsRssMb: number | undefined;
  cleanRssMb: number | undefined;
}

export interface ScenarioOptions {
  repositories: number;
  tags: number;
  concurrency: number;
  ceilingRequests: number;
  runs: number;
  /** false: the RSS-growth pass (rc ls and rc clean --no-gc timed, nothing counted or compared). */
  full: boolean;
  /** Concurrencies for rc ls and rc clean --no-gc once more each (full pass only). */
  concurrencySweep: number[];
  /** `full` and `lite` push over the API; `storage` writes the lite images into the stopped registry's storage (growth pass only). */
  fill: 'full' | 'lite' | 'storage';
  gc: boolean;
  skopeo: { sample: number } | false;
  seed: { sample: number } | false;
  log: (line: string) => void;
}

interface Image {
  repository: string;
  tag: string;
  digest: string;
}

/** At most 20 evenly spaced samples, in MB. */
function curve(samples: ReadonlyArray<[number, number, number]>): Array<[number, number, number]> {
  const step = Math.max(1, Math.ceil(samples.length / 20));
  const picked = samples.filter((_, i) => i % step === 0 || i === samples.length - 1);
  return picked.map(([t, rss, heap]) => [t, Math.round(rss / 102.4) / 10, Math.round(heap / 102.4) / 10]);
}

const mb = (kb: number | undefined): number | undefined => (kb === undefined ? undefined : Math.round((kb / 1024) * 10) / 10);

/** `count` items spread evenly over `items` (every repository gets its share). */
function spread<T>(items: readonly T[], count: number): T[] {
  if (count <= 0 || count >= items.length) return [...items];
  return Array.from({ length: count }, (_, i) => items[Math.floor((i * items.length) / count)]!);
}

export async function runScenario(options: ScenarioOptions): Promise<ScenarioResult> {
  const { repositories: R, tags: T, concurrency: C, log } = options;
  const cleanups: Array<() => Promise<void> | void> = [];
  try {
    log(`registry: starting docker-registry`);
    const registry = await startRegistry({ readyTimeoutMs: 60_000 });
    cleanups.push(() => registry.stop());
    const proxy = await startCountingProxy(registry.port);
    cleanups.push(() => proxy.close());
    const workdir = scratchDir('rc-bench-work-');
    cleanups.push(() => removeScratch(workdir));

    // --- fill ------------------------------------------------------------------------------
    const how = options.fill === 'storage' ? `written into the stopped registry's storage` : `${C} pushes in flight`;
    log(`fill (${options.fill}): ${R} repositories x ${T} tags = ${R * T} distinct images, ${how}`);
    const fillStart = performance.now();
    const fillOptions = { repositories: R, tagsPerRepository: T, concurrency: C, seed: `bench-${R}x${T}` };
    const fill =
      options.fill === 'storage'
        ? await fillRegistryStorage(registry, fillOptions)
        : options.fill === 'lite'
          ? await fillRegistryLite(registry.url, fillOptions)
          : await fillRegistry(registry.url, fillOptions);
    const fillMs = performance.now() - fillStart;
    log(`fill: ${(fillMs / 1000).toFixed(1)} s (${((R * T) / (fillMs / 1000)).toFixed(0)} images/s)`);
    if (options.fill === 'storage') {
      // Written behind the registry's back: check it serves them before measuring anything on them.
      const check = await verifyStorageFill(registry, fill);
      log(`fill check through the API: catalog of ${check.catalog} repositories (${check.catalogPages} page${check.catalogPages === 1 ? '' : 's'}), tags/list of ${check.tagLists}, HEAD of ${check.heads} and GET of ${check.gets} tags as written`);
    }
    const images: Image[] = fill.images;
    const byRepository = new Map<string, Image[]>();
    for (const image of images) {
      const list = byRepository.get(image.repository);
      if (list) list.push(image);
      else byRepository.set(image.repository, [image]);
    }
    // Half of each repository's tags: every other one (tag-000, tag-002, …).
    const doomed = [...byRepository.values()].flatMap((list) => list.filter((_, i) => i % 2 === 0));
    const D = doomed.length;
    const snapshot = await StorageSnapshot.take(registry, scratchDir('rc-bench-snapshot-'));
    cleanups.push(() => removeScratch(snapshot.dir));

    const expectRemaining = async (deleted: readonly Image[], what: string): Promise<void> => {
      const gone = new Set(deleted.map((i) => `${i.repository}:${i.tag}`));
      const client = new MinimalClient(registry.url, C);
      const lists: string[][] = [];
      try {
        const repos = fill.repositories;
        await client.run(repos.map((r) => ({ method: 'GET', path: `/v2/${r}/tags/list` })), [200], (i, { body }) => {
          lists[i] = (JSON.parse(body) as { tags?: string[] | null }).tags ?? [];
        });
        for (const [i, repository] of repos.entries()) {
          const want = (byRepository.get(repository) ?? []).filter((img) => !gone.has(`${img.repository}:${img.tag}`)).map((img) => img.tag).sort();
          const have = [...(lists[i] ?? [])].sort();
          if (want.join(',') !== have.join(',')) {
            throw new Error(`${what}: ${repository} has tags [${have.slice(0, 6).join(', ')}…] (${have.length}), expected ${want.length}`);
          }
        }
      } finally {
        await client.close();
      }
    };

    // --- the registry's ceiling --------------------------------------------------------------
    const ceilingClient = new MinimalClient(registry.url, C);
    const headPaths = images.map((i) => `/v2/${i.repository}/manifests/${i.tag}`);
    const tagsPaths = fill.repositories.map((r) => `/v2/${r}/tags/list`);
    const heads = (paths: string[]) => paths.map((p) => ({ method: 'HEAD' as const, path: p, headers: { accept: MANIFEST_ACCEPT } }));
    const gets = (paths: string[]) => paths.map((p) => ({ method: 'GET' as const, path: p }));
    await ceilingClient.run(heads(cycle(headPaths, C * 20)), [200]);
    await ceilingClient.run(gets(cycle(tagsPaths, C * 5)), [200]);
    const ceilingHead = await ceilingClient.run(heads(cycle(headPaths, Math.max(options.ceilingRequests, headPaths.length))), [200]);
    const ceilingTags = await ceilingClient.run(gets(cycle(tagsPaths, options.ceilingRequests)), [200]);
    await ceilingClient.close();
    log(`ceiling: HEAD manifests ${ceilingHead.perSecond.toFixed(0)}/s, GET tags/list ${ceilingTags.perSecond.toFixed(0)}/s (${C} in flight, keep-alive)`);
    if (ceilingHead.unexpected || ceilingTags.unexpected) throw new Error('ceiling: the registry answered unexpectedly');

    const tagsRate = ceilingTags.perSecond / 1000;
    const headRate = ceilingHead.perSecond / 1000;
    // The registry's speed drifts on a shared machine: minutes apart, the same requests ran 30% slower.
    // So right after each timed run bursts of HEADs re-measure it, and each part of that run's floor
    // scales by how much slower (or faster) the registry answers then than when that part's rate was
    // measured. "Then" is a reference taken with the same bursts, on the same paths, right after those
    // rates: the ceiling run itself is no burst (a client of its own, 5,000 requests or one per tag),
    // and a registry just restarted is not one that has answered for minutes.
    const driftClient = new MinimalClient(registry.url, C);
    cleanups.push(() => driftClient.close());
    const oneBurst = async (paths: readonly string[]): Promise<number> => {
      const burst = await driftClient.run(heads(cycle(paths, Math.max(1000, C * 40))), [200]);
      if (burst.unexpected) throw new Error('drift check: the registry answered unexpectedly');
      return burst.perSecond;
    };
    // The median of three bursts in a row, taken the same way for a reference and after a run: the
    // first of them meets new connections and a registry just used by something else, in both.
    const burstRate = async (paths: readonly string[]): Promise<number> => {
      const rates: number[] = [];
      for (let i = 0; i < 3; i++) rates.push(await oneBurst(paths));
      return median(rates);
    };
    // The listing floor comes from the ceiling's rates, and scales against this reference (as the cleans' floors did until 2026-12-07).
    const listingReference = await burstRate(headPaths);
    /** A run's floor at the HEAD rate the bursts right after it measured. */
    type BurstFloor = (rate: number) => number;
    /** A listing's floor: the median of its runs' floors, from the rates measured right after each. */
    const driftFields = (floorAt: BurstFloor, rates: number[]): Pick<Measurement, 'floorMs' | 'floorRunsMs' | 'ceilingAfterRuns'> => {
      const floors = rates.map(floorAt);
      return { floorMs: median(floors), floorRunsMs: floors.map(Math.round), ceilingAfterRuns: rates.map(Math.round) };
    };
    const catalogPages = Math.ceil(R / 1000);
    const lsRequired = catalogPages + R + R * T;
    const lsFloor = (catalogPages + R) / tagsRate + (R * T) / headRate;
    const listingFloor: BurstFloor = (rate) => (lsFloor * listingReference) / rate;

    // --- rc's fixed cost: start, load the command, refuse bad input (no request) ---------------------
    // (Not a closed port: rc retries a refused connection for seconds.) The first run of a command
    // compiles all it uses and saves V8's code cache for it, as an installed rc's first run does:
    // warm-up runs that succeed do that first (a listing, and a dry run of a clean, which changes
    // nothing), so that every timed run starts as later runs of an installed rc do. The probes run
    // once without the cache too (RC_COMPILE_CACHE=off): what a first run costs.
    const warmedUp = (result: ProcessResult, what: string): void => {
      if (result.exitCode !== 0) throw new Error(`${what} exited ${result.exitCode ?? result.signal}: ${result.stderr.slice(-2000)}`);
    };
    warmedUp(await runRc(['ls', '--digests', '--json', '--registry', registry.host], { cwd: workdir }), 'rc ls (warm-up)');
    const warmupList = path.join(workdir, 'list-warmup.txt');
    writeFileSync(warmupList, doomed.slice(0, 20).map((i) => `${registry.host}/${i.repository}:${i.tag}\n`).join(''));
    warmedUp(await runRc(['clean', '--dry-run', '--no-gc', '--file', warmupList], { cwd: workdir }), 'rc clean --dry-run (warm-up)');
    const probeLs = (env?: Record<string, string>) => runRc(['ls', '--json', '--file', path.join(workdir, 'no-such-list.txt')], { cwd: workdir, env });
    const probeClean = (env?: Record<string, string>) => runRc(['clean', '--json', 'busybox:1.36'], { cwd: workdir, env });
    const uncachedLs = await probeLs({ RC_COMPILE_CACHE: 'off' });
    const uncachedClean = await probeClean({ RC_COMPILE_CACHE: 'off' });
    const startupLs = await probeLs();
    const startupClean = await probeClean();
    for (const probe of [uncachedLs, uncachedClean, startupLs, startupClean]) {
      if (probe.exitCode !== 2) throw new Error(`rc start-up probe ${probe.argv.join(' ')} exited ${probe.exitCode}, expected 2`);
    }
    const startup = {
      lsMs: startupLs.wallMs,
      cleanMs: startupClean.wallMs,
      uncachedLsMs: uncachedLs.wallMs,
      uncachedCleanMs: uncachedClean.wallMs,
      rssMb: mb(Math.max(startupClean.peakRssKb ?? 0, startupLs.peakRssKb ?? 0)),
      lsCpuMs: startupLs.cpuMs,
      cleanCpuMs: startupClean.cpuMs,
    };
    log(`rc start-up (bad input, exit 2, no request): ls ${startup.lsMs.toFixed(0)} ms, clean ${startup.cleanMs.toFixed(0)} ms, ${startup.rssMb} MB (without the code cache: ${startup.uncachedLsMs.toFixed(0)} ms, ${startup.uncachedCleanMs.toFixed(0)} ms)`);

    const subjects: Record<string, Measurement> = {};
    const counted = async (run: () => Promise<ProcessResult>): Promise<{ counts: RequestCounts; result: ProcessResult; start: number }> => {
      proxy.reset();
      const start = performance.now();
      const result = await run();
      return { counts: proxy.counts(), result, start };
    };
    const relative = (counts: RequestCounts, start: number) =>
      Object.fromEntries(Object.entries(counts.spans).map(([cls, s]) => [cls, { first: Math.round(s.first - start), last: Math.round(s.last - start) }]));
    const check = (result: ProcessResult, what: string): void => {
      if (result.exitCode !== 0) throw new Error(`${what} exited ${result.exitCode ?? result.signal}: ${result.stderr.slice(-2000)}${result.stdout.slice(-2000)}`);
    };

    // --- rc ls --digests --json --------------------------------------------------------------------
    const lsArgs = (host: string) => ['ls', '--digests', '--json', '--registry', host, '--concurrency', String(C)];
    const lsRuns: ProcessResult[] = [];
    const lsRates: number[] = [];
    for (let i = 0; i < options.runs; i++) {
      const result = await runRc(lsArgs(registry.host), { cwd: workdir });
      lsRates.push(await burstRate(headPaths));
      check(result, 'rc ls');
      const listing = JSON.parse(result.stdout) as { registries: Array<{ repositories: Array<{ tags: Array<{ digest?: string }> }> }> };
      const listed = listing.registries[0]?.repositories.flatMap((r) => r.tags) ?? [];
      if (listed.length !== R * T || listed.some((t) => !t.digest)) throw new Error(`rc ls listed ${listed.length} tags, expected ${R * T} with digests`);
      lsRuns.push(result);
    }
    const { run: lsMedian, wallMs: lsWall } = nearestMedian(lsRuns, (r) => r.wallMs);
    const ls: Measurement = {
      requests: undefined,
      wallMs: lsWall,
      ...(lsMedian.cpuMs !== undefined && { cpuMs: lsMedian.cpuMs }),
      ...(lsMedian.heapAtExitKb !== undefined && { heapAtExitMb: mb(lsMedian.heapAtExitKb) }),
      memoryCurve: curve(lsMedian.memorySamples),
      wallRunsMs: lsRuns.map((r) => Math.round(r.wallMs)),
      peakRssMb: mb(Math.max(...lsRuns.map((r) => r.peakRssKb ?? 0))),
      timeMaxRssMb: mb(Math.max(...lsRuns.map((r) => r.timeMaxRssKb ?? 0))),
      required: lsRequired,
      ...driftFields(listingFloor, lsRates),
    };
    if (options.full) {
      const { counts, result, start } = await counted(() => runRc(lsArgs(proxy.host), { cwd: workdir }));
      check(result, 'rc ls (counted)');
      Object.assign(ls, { requests: counts.total, mix: counts.byClass, repeats: counts.repeatsByClass, timeline: relative(counts, start) });
    }
    subjects['rc ls --digests --json'] = ls;
    log(`rc ls --digests --json: ${(ls.wallMs / 1000).toFixed(2)} s, ${ls.requests ?? '?'} requests, peak RSS ${ls.peakRssMb} MB`);

    // --- the same listing by a minimal client in a process of its own: what starting cold costs any Node.js client ---
    const coldRuns: Array<Awaited<ReturnType<typeof runNodeScript>>> = [];
    const coldRates: number[] = [];
    for (let i = 0; i < options.runs; i++) {
      const run = await runNodeScript(path.join(repoRoot, 'bench', 'cold-minimal-ls.mjs'), [registry.url, String(C)]);
      coldRates.push(await burstRate(headPaths));
      const counted = JSON.parse(run.result.stdout || '{}') as { tags?: number; digests?: number };
      if (run.result.exitCode !== 0 || counted.tags !== R * T || counted.digests !== R * T) {
        throw new Error(`cold minimal ls: exit ${run.result.exitCode}, ${run.result.stdout.trim()} ${run.result.stderr.slice(-1000)}`);
      }
      coldRuns.push(run);
    }
    const { run: coldMedian, wallMs: coldWall } = nearestMedian(coldRuns, (r) => r.result.wallMs);
    subjects[COLD_MINIMAL_LS] = {
      requests: lsRequired,
      wallMs: coldWall,
      wallRunsMs: coldRuns.map((r) => Math.round(r.result.wallMs)),
      ...(coldMedian.cpuMs !== undefined && { cpuMs: coldMedian.cpuMs }),
      ...(coldMedian.maxRssKb !== undefined && { peakRssMb: mb(coldMedian.maxRssKb) }),
      required: lsRequired,
      ...driftFields(listingFloor, coldRates),
    };
    log(`minimal client, cold process, ls --digests: ${(coldWall / 1000).toFixed(2)} s`);

    // --- the minimal safe clean: the floor, run for real ----------------------------------------
    await snapshot.restore();
    const minimal = await minimalSafeClean(registry, fill.repositories, doomed, C, 'api');
    await expectRemaining(doomed, 'minimal client');
    // The tags a clean keeps: what the drift check after a clean can HEAD. For the clean floors as
    // taken until 2026-12-07, the DELETE part came from this clean: its reference is taken right
    // after it, on a registry in the very state each later clean leaves it in.
    const doomedSet = new Set(doomed);
    const keptPaths = images.filter((i) => !doomedSet.has(i)).map((i) => `/v2/${i.repository}/manifests/${i.tag}`);
    const cleanReference = await burstRate(keptPaths);
    log(`minimal client: tags/list ${minimal.tagsList.perSecond.toFixed(0)}/s, HEAD ${minimal.head?.perSecond.toFixed(0)}/s, DELETE ${minimal.delete.perSecond.toFixed(0)}/s, ${(minimal.totalMs / 1000).toFixed(2)} s in all`);
    /** `docker-registry garbage-collect` alone, then a restart until `/v2/` answers: each timed. */
    const collectAndRestart = async (): Promise<{ gcMs: number; restartMs: number }> => {
      const gcStart = performance.now();
      const gc = await runProcess(['docker-registry', 'garbage-collect', registry.configPath]);
      const gcMs = performance.now() - gcStart;
      if (gc.exitCode !== 0) throw new Error(`docker-registry garbage-collect failed: ${gc.stderr.slice(-2000)}`);
      const restartStart = performance.now();
      await registry.restart();
      return { gcMs, restartMs: performance.now() - restartStart };
    };
    let gcMs: number | undefined;
    let restartMs: number | undefined;
    let gcReference: number | undefined;
    if (options.gc) {
      ({ gcMs, restartMs } = await collectAndRestart());
      log(`minimal: garbage-collect ${(gcMs / 1000).toFixed(2)} s, restart until /v2/ answers ${(restartMs / 1000).toFixed(2)} s`);
      // rc's GC run ends with a restart too: its burst meets a registry just started, and so does this one.
      gcReference = await burstRate(keptPaths);
    }

    // --- floors ----------------------------------------------------------------------------------
    const deleteRate = minimal.delete.perSecond / 1000;
    // 1 GET /v2/, 2 DELETE probes (deletion support), POST + DELETE upload (storage identity);
    // per repository: tags/list, and tags/list again right before deleting (race check);
    // per tag of an affected repository: 1 HEAD (its digest: siblings must be known); per digest: 1 DELETE.
    const cleanConstant = 5;
    const cleanRequired = cleanConstant + 2 * R + R * T + D;
    const tagsPartMs = (cleanConstant + 2 * R) / tagsRate;
    const headPartMs = (R * T) / headRate;
    const deletePartMs = D / deleteRate;
    const cleanFloor = tagsPartMs + headPartMs + deletePartMs;
    // With storage proven to be the registry's own (the upload probe), a tag's digest is read where the
    // registry itself reads it: no HEAD per tag. That is rc's clean with a storage backend.
    const cleanStorageRequired = cleanConstant + 2 * R + D;
    const cleanStorageFloor = tagsPartMs + deletePartMs;

    // --- rc clean -----------------------------------------------------------------------------------
    const config = {
      storage: { backend: 'filesystem', root: registry.storageRoot },
      gc: { command: ['docker-registry', 'garbage-collect', registry.configPath], mode: 'online' },
      restart: { command: registry.restartCommand },
    };
    writeFileSync(path.join(workdir, 'registry-clean.config.json'), `${JSON.stringify(config, null, 2)}\n`);
    // No storage: every digest through the API, as for a registry rc cannot reach the storage of.
    const apiOnlyConfig = path.join(workdir, 'api-only.config.json');
    writeFileSync(apiOnlyConfig, '{}\n');
    const listFile = (host: string, items: readonly Image[], name: string): string => {
      const file = path.join(workdir, name);
      writeFileSync(file, items.map((i) => `${host}/${i.repository}:${i.tag}\n`).join(''));
      return file;
    };
    const directList = listFile(registry.host, doomed, 'list-direct.txt');
    const proxyList = listFile(proxy.host, doomed, 'list-proxy.txt');

    /** The minimal client's clean run beside one of rc's: what that run's floor is taken from. */
    interface Beside {
      clean: MinimalClean;
      gcMs?: number;
      restartMs?: number;
    }
    /**
     * A clean's floor, from the minimal client's clean run right beside each of rc's on the same
     * restored data (`paired`: the verdict's), and as taken until 2026-12-07 (`byBursts`: the
     * rates of the minimal client's one clean at the start, scaled by the HEAD bursts after the run).
     */
    interface CleanFloor {
      paired: (beside: Beside) => number;
      byBursts: BurstFloor;
      required: number;
    }
    /**
     * One clean measured: `args` added to rc's, how the minimal client beside it finds digests, whether
     * it also collects garbage and restarts, the floor, and whether a counted run follows.
     */
    interface CleanSubject {
      args: string[];
      digests: 'api' | 'storage';
      gc: boolean;
      floor: CleanFloor;
      count: boolean;
    }
    const cleanSubject = async (name: string, { args: extra, digests, gc, floor, count }: CleanSubject): Promise<void> => {
      const runs: ProcessResult[] = [];
      const rates: number[] = [];
      const besides: Beside[] = [];
      const rcRun = async (): Promise<void> => {
        await snapshot.restore();
        // Plain progress (CI set, no --json): its step lines give the step timings.
        const result = await runRc(['clean', '--concurrency', String(C), '--file', directList, ...extra], { cwd: workdir, timeoutMs: 30 * 60_000 });
        check(result, name);
        await expectRemaining(doomed, name);
        runs.push(result);
        rates.push(await burstRate(keptPaths));
      };
      // The same clean by the minimal client, the same way (through the API alone, or digests from
      // the storage), on a registry just restarted on the same data: a registry that has answered no
      // HEAD for a manifest deletes it more slowly (a few percent to 10% at 1,000 tags), and the
      // registry's speed drifts from minute to minute by more than the margins judged.
      const minimalRun = async (): Promise<void> => {
        await snapshot.restore();
        const clean = await minimalSafeClean(registry, fill.repositories, doomed, C, digests);
        await expectRemaining(doomed, `minimal client beside ${name}`);
        besides.push(gc ? { clean, ...(await collectAndRestart()) } : { clean });
      };
      // Which of the pair goes first alternates, so that a registry slowing down (or speeding up)
      // over the pair favours neither.
      for (let i = 0; i < options.runs; i++) {
        for (const run of i % 2 === 0 ? [minimalRun, rcRun] : [rcRun, minimalRun]) await run();
      }
      const floors = besides.map(floor.paired);
      const { run: medianRun, wallMs } = nearestMedian(runs, (r) => r.wallMs);
      const measurement: Measurement = {
        requests: undefined,
        wallMs,
        ...(medianRun.cpuMs !== undefined && { cpuMs: medianRun.cpuMs }),
        ...(medianRun.heapAtExitKb !== undefined && { heapAtExitMb: mb(medianRun.heapAtExitKb) }),
        steps: stepTimes(medianRun.stderrLines, medianRun.memorySamples),
        memoryCurve: curve(medianRun.memorySamples),
        wallRunsMs: runs.map((r) => Math.round(r.wallMs)),
        peakRssMb: mb(Math.max(...runs.map((r) => r.peakRssKb ?? 0))),
        timeMaxRssMb: mb(Math.max(...runs.map((r) => r.timeMaxRssKb ?? 0))),
        required: floor.required,
        floorMs: median(floors),
        floorRunsMs: floors.map(Math.round),
        floorByBurstsMs: median(rates.map(floor.byBursts)),
        ceilingAfterRuns: rates.map(Math.round),
        besideRuns: besides.map(({ clean, gcMs, restartMs }) => ({
          totalMs: Math.round(clean.totalMs),
          ...(clean.head && { headPerSecond: Math.round(clean.head.perSecond) }),
          deletePerSecond: Math.round(clean.delete.perSecond),
          ...(gcMs !== undefined && restartMs !== undefined && { gcMs: Math.round(gcMs), restartMs: Math.round(restartMs) }),
        })),
      };
      if (count) {
        await snapshot.restore();
        const { counts, result, start } = await counted(() =>
          runRc(['clean', '--json', '--concurrency', String(C), '--file', proxyList, ...extra], { cwd: workdir, timeoutMs: 30 * 60_000 }),
        );
        check(result, `${name} (counted)`);
        await expectRemaining(doomed, `${name} (counted)`);
        Object.assign(measurement, { requests: counts.total, mix: counts.byClass, repeats: counts.repeatsByClass, timeline: relative(counts, start) });
      }
      subjects[name] = measurement;
      log(`${name}: ${(measurement.wallMs / 1000).toFixed(2)} s, ${measurement.requests ?? '?'} requests, peak RSS ${measurement.peakRssMb} MB; floor ${(measurement.floorMs! / 1000).toFixed(2)} s (DELETE ${besides.map((b) => b.clean.delete.perSecond.toFixed(0)).join(', ')}/s beside its runs)`);
    };
    // A paired floor: the small fixed part at the ceiling's tags/list rate, the rest at the rates of the minimal clean beside the run.
    const atDeleteRate = ({ clean }: Beside): number => D / (clean.delete.perSecond / 1000);
    await cleanSubject('rc clean --no-gc', {
      args: ['--no-gc'],
      digests: 'storage',
      gc: false,
      floor: {
        paired: (beside) => tagsPartMs + atDeleteRate(beside),
        // Each part scales against the reference taken after the rate it comes from.
        byBursts: (rate) => (tagsPartMs * listingReference + deletePartMs * cleanReference) / rate,
        required: cleanStorageRequired,
      },
      count: options.full,
    });
    if (options.full) {
      await cleanSubject('rc clean --no-gc, API only', {
        args: ['--no-gc', '--config', apiOnlyConfig],
        digests: 'api',
        gc: false,
        floor: {
          paired: (beside) => tagsPartMs + (R * T) / (beside.clean.head!.perSecond / 1000) + atDeleteRate(beside),
          byBursts: (rate) => ((tagsPartMs + headPartMs) * listingReference + deletePartMs * cleanReference) / rate,
          required: cleanRequired,
        },
        count: true,
      });
    }
    // Garbage collection and the restart are timed, not rated: the minimal client's own, beside each run
    // (until 2026-12-07, its one collection at the start, with only the requests' part scaled by the
    // burst after that collection and restart).
    if (options.gc && gcMs !== undefined && restartMs !== undefined && gcReference !== undefined) {
      const [gc, restart, reference] = [gcMs, restartMs, gcReference];
      await cleanSubject('rc clean (GC online + restart)', {
        args: [],
        digests: 'storage',
        gc: true,
        floor: {
          paired: (beside) => tagsPartMs + atDeleteRate(beside) + beside.gcMs! + beside.restartMs!,
          byBursts: (rate) => (cleanStorageFloor * reference) / rate + gc + restart,
          required: cleanStorageRequired,
        },
        count: options.full,
      });
    }

    // --- the default concurrency, by measurement ----------------------------------------------------
    const sweep: ConcurrencyPoint[] = [];
    for (const c of options.full ? options.concurrencySweep : []) {
      // The listing sees every tag, not what the previous clean left (the sweep once listed half).
      await snapshot.restore();
      const ls = await runRc(['ls', '--digests', '--json', '--registry', registry.host, '--concurrency', String(c)], { cwd: workdir });
      check(ls, `rc ls --concurrency ${c}`);
      const clean = await runRc(['clean', '--no-gc', '--concurrency', String(c), '--file', directList], { cwd: workdir, timeoutMs: 30 * 60_000 });
      check(clean, `rc clean --concurrency ${c}`);
      await expectRemaining(doomed, `rc clean --concurrency ${c}`);
      sweep.push({ concurrency: c, lsMs: ls.wallMs, cleanMs: clean.wallMs, lsRssMb: mb(ls.peakRssKb ?? 0), cleanRssMb: mb(clean.peakRssKb ?? 0) });
      log(`concurrency ${c}: rc ls ${(ls.wallMs / 1000).toFixed(2)} s, rc clean --no-gc ${(clean.wallMs / 1000).toFixed(2)} s`);
    }

    // --- skopeo delete, one process per tag ---------------------------------------------------------
    if (options.skopeo) {
      await snapshot.restore();
      const sample = spread(doomed, options.skopeo.sample);
      proxy.reset();
      const start = performance.now();
      for (const image of sample) {
        const result = await runProcess(['skopeo', 'delete', '--tls-verify=false', `docker://${proxy.host}/${image.repository}:${image.tag}`]);
        if (result.exitCode !== 0) throw new Error(`skopeo delete ${image.repository}:${image.tag} failed: ${result.stderr}`);
      }
      const wall = performance.now() - start;
      const counts = proxy.counts();
      await expectRemaining(sample, 'skopeo');
      const scale = D / sample.length;
      subjects['skopeo delete per tag'] = {
        requests: Math.round(counts.total * scale),
        mix: counts.byClass,
        wallMs: wall * scale,
        required: cleanRequired,
        floorMs: cleanFloor,
        sample: sample.length,
        note: `sequential, one skopeo process per tag, through the counting proxy${sample.length < D ? `; ${sample.length} of ${D} tags run, extrapolated` : ''}`,
      };
      log(`skopeo: ${sample.length} tags in ${(wall / 1000).toFixed(1)} s (${(wall / sample.length).toFixed(0)} ms/tag)`);
    }

    // --- the seed script's deletion loop ---------------------------------------------------------------
    if (options.seed) {
      const sample = spread(doomed, options.seed.sample);
      const seedDir = scratchDir('rc-bench-seed-');
      cleanups.push(() => removeScratch(seedDir));
      writeFileSync(path.join(seedDir, 'registry-images-clean.txt'), sample.map((i) => `${proxy.host}/${i.repository}:${i.tag}\n`).join(''));
      const inspect = path.join(seedDir, 'inspect.json');
      writeFileSync(inspect, JSON.stringify([{ Mounts: [{ Type: 'bind', Source: registry.storageRoot, Destination: '/var/lib/registry' }] }]));
      const runSeed = async (name: string, env: Record<string, string>, how: string): Promise<void> => {
        await snapshot.restore();
        proxy.reset();
        const result = await runProcess(['bash', path.join(repoRoot, 'bench', 'seed-clean.sh')], { cwd: seedDir, env: { ...process.env, ...env } });
        const counts = proxy.counts();
        if (result.exitCode !== 0) throw new Error(`${name} failed (${result.exitCode}): ${result.stderr.slice(-2000)}`);
        await expectRemaining(sample, name);
        const scale = D / sample.length;
        subjects[name] = {
          requests: Math.round(counts.total * scale),
          mix: counts.byClass,
          wallMs: result.wallMs * scale,
          required: cleanRequired,
          floorMs: cleanFloor,
          sample: sample.length,
          note: `registry-images-clean.sh's images_rm loop (curl + jq + ls per image, ${how}), through the counting proxy${sample.length < D ? `; ${sample.length} of ${D} images run, extrapolated` : ''}`,
        };
        log(`${name}: ${sample.length} images in ${(result.wallMs / 1000).toFixed(1)} s (${(result.wallMs / sample.length).toFixed(0)} ms/image)`);
      };
      // As the seed runs it: `docker inspect` of the registry's container, for each image.
      const container = await createSeedContainer(registry.storageRoot);
      if ('unavailable' in container) {
        log(`seed script: no Docker engine (${container.unavailable}); docker inspect is replaced by cat`);
      } else {
        cleanups.push(() => container.remove());
        await runSeed('seed script loop', container.env, 'docker inspect of a container with the storage mounted');
      }
      // A lower bound: the same loop with `docker inspect` replaced by `cat` of its answer.
      await runSeed(`seed script loop${'unavailable' in container ? '' : ', docker inspect as cat'}`, { SEED_INSPECT_JSON: inspect }, '`docker inspect` replaced by `cat` of its answer');
    }

    return {
      repositories: R,
      tags: T,
      images: R * T,
      deleted: D,
      concurrency: C,
      fill: { ms: fillMs, imagesPerSecond: (R * T) / (fillMs / 1000), kind: options.fill },
      ceiling: { head: ceilingHead, tagsList: ceilingTags },
      driftReference: { listing: listingReference, clean: cleanReference, ...(gcReference !== undefined && { gc: gcReference }) },
      minimal: { ...minimal, ...(gcMs !== undefined && { gcMs }), ...(restartMs !== undefined && { restartMs }) },
      startup,
      floors: { lsMs: lsFloor, cleanMs: cleanFloor, cleanStorageMs: cleanStorageFloor },
      sweep,
      subjects,
    };
  } finally {
    for (const cleanup of cleanups.reverse()) {
      try {
        await cleanup();
      } catch {
        // Best effort: the kit's exit hook kills any registry left.
      }
    }
  }
}

/** What the minimal safe client did: the rate of each phase, its wall time and CPU. */
export interface MinimalClean {
  tagsList: RateResult;
  /** Absent on the storage path, which reads each tag's digest from the storage instead. */
  head?: RateResult;
  delete: RateResult;
  totalMs: number;
  cpuMs: number;
}

/**
 * What a correct cleaner must do at the least on distribution 2.8, run by the minimal client
 * on the restored data: every repository's tags, every tag's digest (a DELETE by digest
 * untags every sibling, so each sibling must be known), one DELETE per digest whose tags are
 * all listed. Phases run one after another at full concurrency. `digests: 'storage'` reads
 * each tag's digest from its `current/link` in the registry's storage, as rc does with its
 * storage proven, instead of a HEAD: the registry then meets the DELETEs without having
 * answered for those manifests, as it does when rc deletes.
 */
async function minimalSafeClean(registry: RegistryServer, repositories: string[], doomed: readonly Image[], concurrency: number, digests: 'api' | 'storage'): Promise<MinimalClean> {
  const client = new MinimalClient(registry.url, concurrency);
  try {
    const start = performance.now();
    const cpuStart = process.cpuUsage();
    const tagLists: string[][] = [];
    const tagsList = await client.run(
      repositories.map((r) => ({ method: 'GET', path: `/v2/${r}/tags/list` })),
      [200],
      (i, { body }) => {
        tagLists[i] = (JSON.parse(body) as { tags?: string[] | null }).tags ?? [];
      },
    );
    const all = repositories.flatMap((repository, i) => (tagLists[i] ?? []).map((tag) => ({ repository, tag })));
    let head: RateResult | undefined;
    let digestOf: string[];
    if (digests === 'api') {
      const answered = await client.heads(all.map((t) => `/v2/${t.repository}/manifests/${t.tag}`));
      head = answered.rate;
      digestOf = answered.digests;
    } else {
      const repositoriesRoot = path.join(registry.storageRoot, 'docker', 'registry', 'v2', 'repositories');
      digestOf = all.map((t) => readFileSync(path.join(repositoriesRoot, t.repository, '_manifests', 'tags', t.tag, 'current', 'link'), 'utf8').trim());
    }
    const listed = new Set(doomed.map((i) => `${i.repository}:${i.tag}`));
    const tagsOf = new Map<string, string[]>();
    all.forEach((t, i) => {
      const key = `${t.repository}@${digestOf[i]}`;
      tagsOf.set(key, [...(tagsOf.get(key) ?? []), t.tag]);
    });
    const deletions = [...tagsOf.entries()]
      .filter(([key, tags]) => tags.every((tag) => listed.has(`${key.split('@')[0]}:${tag}`)))
      .map(([key]) => {
        const [repository, digest] = key.split('@') as [string, string];
        return { method: 'DELETE' as const, path: `/v2/${repository}/manifests/${digest}` };
      });
    const del = await client.run(deletions, [202]);
    if (tagsList.unexpected || head?.unexpected || del.unexpected) throw new Error('minimal client: the registry answered unexpectedly');
    const cpu = process.cpuUsage(cpuStart);
    return { tagsList, ...(head && { head }), delete: del, totalMs: performance.now() - start, cpuMs: Math.round((cpu.user + cpu.system) / 1000) };
  } finally {
    await client.close();
  }
}

export function rcBuilt(): boolean {
  return existsSync(path.join(repoRoot, 'dist', 'bundle', 'rc.cjs'));
}

