import type { ChildMessage, ParentMessage, TransportName } from '../protocol.js';

/** Where a server child should listen, from its argv: `<tcp|uds> [socket path]`. */
export interface ListenSpec {
  transport: TransportName;
  /** Unix socket path (uds only). */
  socketPath: string;
}

export interface Started {
  /** What the client connects to: `ws://127.0.0.1:port/` or `ws+unix:///path:/`. */
  url: string;
}

function send(msg: ChildMessage): void {
  process.send?.(msg);
}

export function tcpUrl(port: number): string {
  return `ws://127.0.0.1:${port}/`;
}

export function unixUrl(path: string): string {
  return `ws+unix://${path}:/`;
}

/**
 * Run one server under test as a forked child: start it, report its URL over IPC, answer CPU-usage
 * probes, and exit as soon as the parent goes away.
 */
export function serveChild(name: string, start: (spec: ListenSpec) => Promise<Started>): void {
  if (!process.send) {
    console.error(`${name}: run me with child_process.fork (an IPC channel is required)`);
    process.exit(2);
  }
  // Exit through process.exit so that `--cpu-prof` (BENCH_SERVER_NODE_ARGS) writes its profile.
  process.on('disconnect', () => process.exit(0));
  process.on('SIGTERM', () => process.exit(0));
  process.on('message', (raw: unknown) => {
    const msg = raw as ParentMessage;
    if (msg.type === 'cpu') {
      const usage = process.cpuUsage();
      send({ type: 'cpu', seq: msg.seq, user: usage.user, system: usage.system });
    }
  });
  const transport = process.argv[2];
  if (transport !== 'tcp' && transport !== 'uds') {
    send({ type: 'error', message: `${name}: unknown transport '${String(transport)}'` });
    process.exit(2);
  }
  const socketPath = process.argv[3] ?? '';
  if (transport === 'uds' && socketPath === '') {
    send({ type: 'error', message: `${name}: uds needs a socket path` });
    process.exit(2);
  }
  start({ transport, socketPath }).then(
    (started) => send({ type: 'ready', url: started.url }),
    (err: unknown) => {
      send({ type: 'error', message: `${name}: ${err instanceof Error ? err.message : String(err)}` });
      process.exit(1);
    },
  );
}
