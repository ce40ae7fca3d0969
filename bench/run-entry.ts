import { closeTestkitHttp } from '../testkit/http.js';
import { stopAllRegistries } from '../testkit/registry-server.js';

/**
 * How a bench entry point ends: runs `main`, logs a failure with its stack, stops every registry
 * the test kit started and its HTTP pool, and exits with `main`'s code (0 when it returns none,
 * 1 when it throws).
 */
export async function runEntry(main: () => Promise<number | void>, log: (line: string) => void): Promise<never> {
  let exitCode = 1;
  try {
    exitCode = (await main()) ?? 0;
  } catch (error) {
    log(`failed: ${(error as Error).stack ?? String(error)}`);
  } finally {
    await stopAllRegistries().catch(() => undefined);
    await closeTestkitHttp().catch(() => undefined);
  }
  process.exit(exitCode);
}
