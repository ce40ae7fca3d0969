import { spawn } from 'node:child_process';
import { once } from 'node:events';

/**
 * A 127.0.0.1 port where connecting never completes: what a registry host that is down behind a
 * firewall, or that drops packets, looks like to a client. A listening socket that never accepts,
 * its queue already full, so the kernel drops every further SYN. Node accepts every connection
 * it is offered, so the socket lives in a small python3 process.
 */
export interface SilentPort {
  readonly port: number;
  close(): Promise<void>;
}

const script = `
import socket, sys, time
server = socket.socket()
server.bind(('127.0.0.1', 0))
server.listen(0)
port = server.getsockname()[1]
queued = []
for _ in range(3):
    client = socket.socket()
    client.setblocking(False)
    try:
        client.connect(('127.0.0.1', port))
    except BlockingIOError:
        pass
    queued.append(client)
time.sleep(0.3)
print(port, flush=True)
sys.stdin.read()
`;

export async function startSilentPort(): Promise<SilentPort> {
  const child = spawn('python3', ['-c', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  const [line] = (await Promise.race([once(child.stdout, 'data'), once(child, 'exit').then(() => { throw new Error('silent port: python3 exited before listening'); })])) as [Buffer];
  const port = Number(String(line).trim());
  if (!Number.isInteger(port) || port <= 0) throw new Error(`silent port: python3 printed ${String(line)}`);
  return {
    port,
    async close() {
      if (child.exitCode !== null) return;
      child.stdin.end();
      child.kill();
      await once(child, 'exit');
    },
  };
}
