import type { MethodSpec } from '../server/method.js';
import { capabilitiesList, rpcDiscover } from './discovery.js';
import { serverHandshake } from './handshake.js';
import { sessionAuth } from './session.js';
import { stateExists, stateGet, stateKeys, stateSet, stateSnapshot } from './state.js';
import { toolsCancel, toolsList, toolsPoll, toolsRegister, toolsStreamSubscribe, toolsUnregister } from './tools.js';

/** The built-in methods every ServerState serves. */
export function coreMethods(): MethodSpec[] {
  return [
    sessionAuth,
    serverHandshake,
    capabilitiesList,
    rpcDiscover,
    stateGet,
    stateSet,
    stateExists,
    stateKeys,
    stateSnapshot,
    toolsRegister,
    toolsList,
    toolsUnregister,
    toolsPoll,
    toolsCancel,
    toolsStreamSubscribe,
  ];
}
