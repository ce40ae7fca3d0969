#!/usr/bin/env node
/**
 * `rc ls --digests` with nothing around it, in a process of its own: the catalog, each
 * repository's tags/list, a HEAD of every tag (rc's Accept header), CONCURRENCY in flight over
 * Node's own keep-alive http agent, and no output but a count. What a Node.js process that
 * starts cold pays for the job beyond the registry's floor: start-up, code that has not been
 * optimised yet, and its own CPU, which on a small machine is the registry's CPU too.
 * Plain JavaScript, no dependency, so nothing is loaded that the job does not need.
 *
 *   node bench/cold-minimal-ls.mjs http://127.0.0.1:5000 16   → prints `{"tags":1000,"digests":1000}`
 */
import { Agent, request } from 'node:http';

const [origin, concurrencyText] = process.argv.slice(2);
const base = new URL(origin);
const concurrency = Number(concurrencyText ?? 16);
const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
const accept = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

function send(method, path) {
  return new Promise((resolve, reject) => {
    const req = request({ hostname: base.hostname, port: base.port, method, path, agent, headers: { accept } }, (res) => {
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('end', () => (res.statusCode === 200 ? resolve({ headers: res.headers, body: Buffer.concat(chunks).toString() }) : reject(new Error(`${method} ${path}: ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end();
  });
}

// The catalog a page at a time (distribution answers at most 1,000 a page), following `Link`.
const repositories = [];
for (let page = '/v2/_catalog?n=1000'; page; ) {
  const answer = await send('GET', page);
  repositories.push(...(JSON.parse(answer.body).repositories ?? []));
  page = /<([^>]+)>;\s*rel="?next"?/.exec(answer.headers.link ?? '')?.[1];
}
// One queue for every request, fed as tag lists arrive: CONCURRENCY in flight from start to end.
const jobs = repositories.map((name) => ({ name }));
let tags = 0;
let digests = 0;
let next = 0;
async function worker() {
  while (next < jobs.length) {
    const job = jobs[next++];
    if (job.tag === undefined) {
      const list = JSON.parse((await send('GET', `/v2/${job.name}/tags/list`)).body).tags ?? [];
      for (const tag of list) jobs.push({ name: job.name, tag });
      tags += list.length;
    } else if ((await send('HEAD', `/v2/${job.name}/manifests/${job.tag}`)).headers['docker-content-digest']) {
      digests++;
    }
  }
}
// Workers that find the queue empty while tag lists are still coming would quit early: start
// more as the queue grows, never more than CONCURRENCY at once.
let running = 0;
await new Promise((resolve, reject) => {
  const spawn = () => {
    while (running < concurrency && next < jobs.length) {
      running++;
      worker().then(() => {
        running--;
        if (next < jobs.length) spawn();
        else if (running === 0) resolve();
      }, reject);
    }
  };
  spawn();
});
agent.destroy();
process.stdout.write(`${JSON.stringify({ tags, digests })}\n`);
