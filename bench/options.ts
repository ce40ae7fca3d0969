import { parseArgs } from 'node:util';

/** What `npm run bench -- [flags]` can set. */
export interface BenchOptions {
  /** Repositories to fill. */
  repositories: number;
  /** Tags (distinct images) per repository. */
  tags: number;
  /** Requests in flight: rc's --concurrency, the ceiling client's and the fill's. */
  concurrency: number;
  /** Requests per class for the ceiling measurement. */
  ceilingRequests: number;
  /** Timed runs of each rc measurement (a clean's each beside a minimal client's clean); the median is reported. */
  runs: number;
  /** Multiplier of the repository count for the RSS-growth pass; 1 or 0 skips it. */
  rssScale: number;
  /**
   * How the growth pass fills: `full` images like the main pass, `lite` (one manifest PUT per image, shared blobs),
   * or `storage` (the lite fill's images written into the registry's own layout while it is stopped).
   */
  growthFill: 'full' | 'lite' | 'storage';
  /** Tags that skopeo deletes (one process per tag); 0 = every tag the clean deletes. */
  skopeoSample: number;
  skipSkopeo: boolean;
  /** Images the seed script port deletes (one process chain per line); 0 = all. */
  seedSample: number;
  skipSeed: boolean;
  skipGc: boolean;
  /** Concurrencies at which rc ls and rc clean --no-gc run once more (main pass): the default is chosen by them. */
  concurrencySweep: number[];
  /** Where latest.json and latest.md go. */
  resultsDir: string;
  /** Print the parsed options and exit. */
  help: boolean;
}

export const usage = `npm run bench -- [flags]

  --repositories R     repositories to fill (default 20)
  --tags T             distinct images (tags) per repository (default 50)
  --concurrency C      requests in flight for rc, the ceiling client and the fill (default 16, rc's default)
  --ceiling-requests N requests per class for the registry's ceiling (default 5000)
  --runs N             timed runs per rc measurement, median reported (default 5; 1 in the growth pass)
  --rss-scale S        second pass with S x R repositories for RSS growth: rc ls and rc clean --no-gc (default 10; 1 skips)
  --growth-fill KIND   full (default): images as in the main pass; lite: one manifest PUT per distinct image over
                       shared blobs, ~5x faster to fill; storage: the lite fill's images written into the registry's
                       own storage layout while it is stopped, then checked through the API (for --rss-scale 100)
  --skopeo-sample N    tags deleted with skopeo, extrapolated to all (default 0 = all)
  --skip-skopeo        no skopeo comparison
  --seed-sample N      images deleted with the seed script's loop, extrapolated to all (default 100; 0 = all)
  --skip-seed          no seed script comparison
  --skip-gc            no rc clean with garbage collection + restart
  --concurrency-sweep LIST
                       rc ls and rc clean --no-gc once more at each concurrency (default 4,8,16,32; none skips)
  --results DIR        where latest.json and latest.md go (default bench/results)
`;

function positiveInt(name: string, value: string | undefined, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}, got ${value}`);
  return n;
}

function concurrencyList(value: string): number[] {
  if (value === 'none' || value === '') return [];
  return value.split(',').map((item) => positiveInt('concurrency-sweep', item.trim(), 1));
}

export function parseOptions(argv: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      repositories: { type: 'string', short: 'r' },
      tags: { type: 'string', short: 't' },
      concurrency: { type: 'string', short: 'c' },
      'ceiling-requests': { type: 'string' },
      runs: { type: 'string' },
      'rss-scale': { type: 'string' },
      'growth-fill': { type: 'string' },
      'skopeo-sample': { type: 'string' },
      'skip-skopeo': { type: 'boolean' },
      'seed-sample': { type: 'string' },
      'skip-seed': { type: 'boolean' },
      'skip-gc': { type: 'boolean' },
      'concurrency-sweep': { type: 'string' },
      results: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  });
  const tags = positiveInt('tags', values.tags, 50, 2);
  const growthFill = values['growth-fill'] ?? 'full';
  if (growthFill !== 'full' && growthFill !== 'lite' && growthFill !== 'storage') throw new Error(`--growth-fill must be full, lite or storage, got ${growthFill}`);
  return {
    repositories: positiveInt('repositories', values.repositories, 20),
    tags,
    concurrency: positiveInt('concurrency', values.concurrency, 16),
    ceilingRequests: positiveInt('ceiling-requests', values['ceiling-requests'], 5000, 100),
    runs: positiveInt('runs', values.runs, 5),
    rssScale: positiveInt('rss-scale', values['rss-scale'], 10, 0),
    growthFill,
    skopeoSample: positiveInt('skopeo-sample', values['skopeo-sample'], 0, 0),
    skipSkopeo: values['skip-skopeo'] ?? false,
    seedSample: positiveInt('seed-sample', values['seed-sample'], 100, 0),
    skipSeed: values['skip-seed'] ?? false,
    skipGc: values['skip-gc'] ?? false,
    concurrencySweep: concurrencyList(values['concurrency-sweep'] ?? '4,8,16,32'),
    resultsDir: values.results ?? 'bench/results',
    help: values.help ?? false,
  };
}
