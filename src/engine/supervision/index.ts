export { Supervisor, SupervisionError, DECISION_KINDS, type DecisionKind, type SupervisionDecision, type SupervisionVerdict, type SupervisorHandle, type DecideErrorCode } from './supervisor.js';
export { buildIntent, parametersDigest, type SupervisionIntent, type IntentAction } from './intent.js';
export { filterMatches, severity, type SupervisionFilter } from './filter.js';
