import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { BenchClient } from './client.js';
import { ASYNC_GET_METHOD, HANDSHAKE_PARAMS, STATE_KEY, STATE_VALUE, type TransportName } from './protocol.js';
import { startServer, type ServerChild } from './spawn.js';

/** The servers under test, and one started server with its connected client. */

export interface ServerSpec {
  name: string;
  /** Compiled script under build/bench/servers/. */
  script: string;
  transports: readonly TransportName[];
  /** Serves `bench.callbacks` and `bench.get_async` too. */
  extras: boolean;
}

export const SERVERS: readonly ServerSpec[] = [
  { name: 'bare-ws', script: 'bare-ws.js', transports: ['tcp', 'uds'], extras: true },
  { name: 'ours', script: 'ours.js', transports: ['tcp', 'uds'], extras: true },
  { name: 'json-rpc-2.0', script: 'json-rpc-2.js', transports: ['tcp'], extras: false },
  { name: 'rpc-websockets', script: 'rpc-websockets.js', transports: ['tcp'], extras: false },
];

export const TRANSPORTS: readonly TransportName[] = ['tcp', 'uds'];

export const GET_PARAMS = { key: STATE_KEY };

export interface Target {
  spec: ServerSpec;
  transport: TransportName;
  child: ServerChild;
  client: BenchClient;
  /** Error replies seen so far (should stay 0). */
  errors: number;
  /** Set when a phase threw; later phases skip this target. */
  failed?: string;
}

/**
 * Fork the server (pinned to `cpus` when given), connect, handshake, store the key, and check
 * that the calls the phases will make return the stored value.
 */
export async function startTarget(
  spec: ServerSpec,
  transport: TransportName,
  dir: string,
  cpus: string | undefined,
): Promise<Target> {
  const script = fileURLToPath(new URL(`./servers/${spec.script}`, import.meta.url));
  const socketPath = join(dir, `${spec.name}.sock`);
  const child = await startServer(spec.name, script, transport, socketPath, cpus);
  try {
    const client = await BenchClient.connect(child.url);
    await client.call('server.handshake', { ...HANDSHAKE_PARAMS });
    await client.call('state.set', { key: STATE_KEY, value: STATE_VALUE });
    const methods = spec.extras ? ['state.get', ASYNC_GET_METHOD] : ['state.get'];
    for (const method of methods) {
      const got = await client.call(method, GET_PARAMS);
      if (!isDeepStrictEqual(got, STATE_VALUE)) throw new Error(`${method} returned ${JSON.stringify(got)}`);
    }
    return { spec, transport, child, client, errors: 0 };
  } catch (err) {
    await child.kill();
    throw err;
  }
}
