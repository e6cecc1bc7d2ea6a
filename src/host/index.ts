export { HostState, MAX_HOST_EVENTS, type ApprovalOutcome, type HostSnapshot, type HostStateOptions } from './host-state.js';
export { HostSubscribers, DEFAULT_SUBSCRIBER_QUEUE, type HostEventSink } from './subscribers.js';
export * from './types.js';
