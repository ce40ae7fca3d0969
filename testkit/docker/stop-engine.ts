/**
 * Stops the kit's own dockerd (never another engine): `npx tsx testkit/docker/stop-engine.ts`.
 * Tests leave it running for the next run; use this to free it by hand.
 */
import { enginePaths, stopDockerEngine } from './docker-engine.js';

const paths = enginePaths();
const stopped = await stopDockerEngine(paths);
console.log(stopped ? `stopped the kit's dockerd (${paths.dir})` : `no kit dockerd running (${paths.dir})`);
