import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSilentPort, type SilentPort } from '../../testkit/silent-port.js';
import { createWorkspace, type Workspace } from '../support/workspace.js';

/**
 * A registry host that never completes a connection (down behind a firewall that drops
 * packets): rc gives up on connecting after 10 s, not the whole 30 s request timeout, and says
 * it could not connect, not that the registry is slow.
 */
describe('rc against a host that never accepts the connection', () => {
  let silent: SilentPort;
  let workspace: Workspace;
  let host: string;

  beforeAll(async () => {
    silent = await startSilentPort();
    host = `127.0.0.1:${silent.port}`;
    workspace = createWorkspace();
  });
  afterAll(async () => {
    await silent?.close();
    workspace?.remove();
  });

  it('gives up connecting after 10 s by default, with exit 1, naming the host and what to check', async () => {
    workspace.writeConfig({ registries: { [host]: { retries: 0 } } });
    const started = Date.now();
    const result = await workspace.rc('ls', '--registry', host);
    const seconds = (Date.now() - started) / 1000;
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(new RegExp(`^Error: cannot reach registry ${host}: CONNECT_TIMEOUT: could not connect within 10 s`, 'm'));
    expect(result.stderr).toMatch(/^Hint: .*firewall/m);
    expect(result.stderr).not.toMatch(/did not answer in time|overloaded/);
    // Well short of the 30 s request timeout it used to wait.
    expect(seconds).toBeGreaterThanOrEqual(10);
    expect(seconds).toBeLessThan(25);
  });

  it('a request timeout below 10 s bounds connecting too', async () => {
    workspace.writeConfig({ registries: { [host]: { retries: 0, timeoutSeconds: 2 } } });
    const result = await workspace.rc('ls', '--registry', host);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(`cannot reach registry ${host}: CONNECT_TIMEOUT: could not connect within 2 s`);
  });
});
