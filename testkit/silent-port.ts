import { spawn } from 'node:child_process';
import { once } from 'node:events';

/**
 * A 127.0.0.1 port where connecting never completes: what a registry host that is down behind a
 * firewall, or that drops packets, looks like to a client. A listening socket that never accepts,
 * its queue already full, so the kernel drops every further SYN. Node accepts every connection
 * it is offered, so the socket lives in a small python3 process.
 *
 * `open()` ends the silence: from then on the port accepts, and forwards each connection to
 * `forwardTo` (a real registry's port), so a client that gave up connecting and tried again gets
 * through, like a host whose network came back.
 */
export interface SilentPort {
  readonly port: number;
  /** Starts accepting; resolves once the port accepts. */
  open(): Promise<void>;
  close(): Promise<void>;
}

const script = `
import socket, sys, threading, time
forward_to = int(sys.argv[1])
server = socket.socket()
server.bind(('127.0.0.1', 0))
server.listen(0)
port = server.getsockname()[1]
# Our own connections fill the queue; their ports tell them apart once the port accepts.
fillers = []
for _ in range(3):
    client = socket.socket()
    client.setblocking(False)
    try:
        client.connect(('127.0.0.1', port))
    except BlockingIOError:
        pass
    fillers.append(client)
filler_ports = {c.getsockname()[1] for c in fillers}
time.sleep(0.3)
print(port, flush=True)

def pipe(source, sink):
    try:
        while True:
            data = source.recv(65536)
            if not data:
                break
            sink.sendall(data)
    except OSError:
        pass
    finally:
        for s in (source, sink):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

def serve():
    while True:
        conn, peer = server.accept()
        if peer[1] in filler_ports or forward_to == 0:
            conn.close()
            continue
        upstream = socket.create_connection(('127.0.0.1', forward_to))
        threading.Thread(target=pipe, args=(conn, upstream), daemon=True).start()
        threading.Thread(target=pipe, args=(upstream, conn), daemon=True).start()

for line in sys.stdin:
    if line.strip() == 'open':
        threading.Thread(target=serve, daemon=True).start()
        print('open', flush=True)
`;

/** `forwardTo`: the loopback port `open()` forwards to (0: none, connections are closed once accepted). */
export async function startSilentPort(options: { forwardTo?: number } = {}): Promise<SilentPort> {
  const child = spawn('python3', ['-c', script, String(options.forwardTo ?? 0)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const [line] = (await Promise.race([once(child.stdout, 'data'), once(child, 'exit').then(() => { throw new Error('silent port: python3 exited before listening'); })])) as [Buffer];
  const port = Number(String(line).trim());
  if (!Number.isInteger(port) || port <= 0) throw new Error(`silent port: python3 printed ${String(line)}`);
  return {
    port,
    async open() {
      const opened = once(child.stdout, 'data');
      child.stdin.write('open\n');
      await opened;
    },
    async close() {
      if (child.exitCode !== null) return;
      child.stdin.end();
      child.kill();
      await once(child, 'exit');
    },
  };
}
