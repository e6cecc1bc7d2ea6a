/**
 * What the load generator and every server under test agree on: the stored key and value, the
 * handshake reply of the baselines, the callback parameters, and the IPC messages between the
 * orchestrator and a server child.
 */

export const STATE_KEY = 'k';
export const STATE_VALUE = { hello: 'world', n: 42 } as const;

/** The handshake our daemon requires; baselines accept it too so every target sees the same calls. */
export const HANDSHAKE_PARAMS = { protocol_version: 2 } as const;
export const HANDSHAKE_RESULT = { protocol_version: 2, server_version: 'bench', client_protocol_version: 2 } as const;

export const CALLBACK_METHOD = 'bench.callbacks';

/**
 * What a hand-written daemon method would do for a proposal's job without the runtime: take the
 * same list of calls, call the client back for each (as many at once as asked), and answer with
 * result rows of the proposal reply's shape. Same bytes in and out as `proposal.submit`, no
 * executor (served by ours only).
 */
export const CALLBACK_LIST_METHOD = 'bench.callback_list';

/**
 * Same answer as `state.get`, but from an `async` handler: the path every embedder method that
 * awaits anything takes (served by ours and bare-ws only).
 */
export const ASYNC_GET_METHOD = 'bench.get_async';

/**
 * The params of one `tools.execute` callback, shaped like the ones WsToolExecutor sends so the
 * bare baseline writes frames of the same size.
 */
export function callbackParams(id: string, i: number): Record<string, unknown> {
  const parameters = { i };
  return { action_id: '', tool: 'echo', parameters, params: parameters, attempt: 1, request_id: id };
}

export type TransportName = 'tcp' | 'uds';

/** Child → parent. */
export type ChildMessage =
  | { type: 'ready'; url: string }
  | { type: 'cpu'; seq: number; user: number; system: number }
  | { type: 'error'; message: string };

/** Parent → child. */
export type ParentMessage = { type: 'cpu'; seq: number };
