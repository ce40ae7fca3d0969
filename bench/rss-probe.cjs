// Preloaded into the rc process by the benchmark (NODE_OPTIONS=--require=…/bench/rss-probe.cjs bin/run.cjs …):
// when the process exits, writes its own peak resident set size (VmHWM from /proc/self/status) to
// $BENCH_RSS_FILE, with the V8 heap in use then and, every $BENCH_RSS_SAMPLE_MS, samples of
// [ms since the process started, VmRSS kB, heap used kB] to see which step memory grows in.
// Changes nothing in rc; the GC and restart commands it spawns are not included.
// CommonJS, like bin/run.cjs: an ES module preload starts Node's ESM loader, about 7 ms of start-up
// that rc does not pay on its own and the clients it is compared with do not pay either.
'use strict';
const { readFileSync, writeFileSync } = require('node:fs');

const out = process.env.BENCH_RSS_FILE;
const every = Number(process.env.BENCH_RSS_SAMPLE_MS ?? 0);
delete process.env.BENCH_RSS_FILE;
delete process.env.BENCH_RSS_SAMPLE_MS;
// Loaded through NODE_OPTIONS: the processes rc starts (a node restart command) must not load it too.
if (process.env.NODE_OPTIONS) process.env.NODE_OPTIONS = process.env.NODE_OPTIONS.replace(/\s*--require="[^"]*rss-probe\.cjs"/, '').trim();

const field = (status, name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
const samples = [];
const sample = () => {
  try {
    const status = readFileSync('/proc/self/status', 'utf8');
    if (samples.length < 100_000) samples.push([Math.round(performance.now()), field(status, 'VmRSS'), Math.round(process.memoryUsage().heapUsed / 1024)]);
  } catch {
    // No /proc.
  }
};
if (out && every > 0) setInterval(sample, every).unref();
if (out) {
  process.on('exit', () => {
    try {
      sample();
      const status = readFileSync('/proc/self/status', 'utf8');
      writeFileSync(out, JSON.stringify({ vmHwmKb: field(status, 'VmHWM'), vmRssKb: field(status, 'VmRSS'), heapUsed: process.memoryUsage().heapUsed, samples }));
    } catch {
      // No /proc (not Linux): the benchmark falls back to /usr/bin/time's figure.
    }
  });
}
