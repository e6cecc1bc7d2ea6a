export { RunStore, type RunStoreOptions, type StartInput, type TraceSink } from './run-store.js';
export { RunFiles, fileSegment } from './run-files.js';
export { readTurns, truncateString } from './turns.js';
export * from './types.js';
