import type { MethodSpec } from '../contract/index.js';
import { capabilitiesList, rpcDiscover } from './discovery.js';
import { eventsMethods } from './events.js';
import { serverHandshake } from './handshake.js';
import { memoryMethods } from './memory.js';
import { metricsMethods } from './metrics.js';
import { permissionMethods } from './permission.js';
import { policyMethods } from './policy.js';
import { proposalSubmit } from './proposal.js';
import { sessionRuntimeMethods } from './session-runtime.js';
import { replanSetConfig } from './replan.js';
import { sessionAuth } from './session.js';
import { skillsMethods } from './skills.js';
import { supervisionMethods } from './supervision.js';
import { admissionStatus } from './admission.js';
import { stateExists, stateGet, stateKeys, stateSet, stateSnapshot } from './state.js';
import { toolsCancel, toolsList, toolsPoll, toolsRegister, toolsStreamSubscribe, toolsUnregister } from './tools.js';
import { verifyMethods } from './verify.js';
import { runsMethods } from './runs.js';
import { registryMethods } from './registry.js';
import { hostMethods, unsupportedPlatformMethods } from './host.js';
import { DEFAULT_GATED_METHODS } from '../contract/index.js';
import { inferenceMethods } from './inference.js';
import { modelsMethods } from './models.js';
import { runnerMethods } from './inference-runner.js';
import { a2aMethods } from './a2a.js';
import { a2uiMethods } from './a2ui.js';
import { voiceMethods } from './voice.js';
import { meetingMethods } from './meeting.js';
import { voiceTurnMethods } from './voice-turn.js';
import { integrationMethods } from './integrations.js';
import { agentsMethods } from './agents.js';
import { agentsChatMethods } from './agents-chat.js';
import { multiMethods } from './multi.js';

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
    ...sessionRuntimeMethods,
    ...policyMethods,
    proposalSubmit,
    ...permissionMethods,
    ...eventsMethods,
    ...metricsMethods,
    replanSetConfig,
    ...verifyMethods,
    ...memoryMethods(),
    ...skillsMethods,
    ...runsMethods,
    ...registryMethods,
    ...supervisionMethods,
    ...hostMethods,
    ...integrationMethods,
    ...unsupportedPlatformMethods(DEFAULT_GATED_METHODS.filter((n) => !integrationMethods.some((m) => m.name === n))),
    admissionStatus,
    ...inferenceMethods,
    ...modelsMethods,
    ...runnerMethods,
    ...a2aMethods,
    ...a2uiMethods,
    ...voiceMethods,
    ...meetingMethods,
    ...voiceTurnMethods,
    ...agentsMethods,
    ...agentsChatMethods,
    ...multiMethods,
  ];
}
