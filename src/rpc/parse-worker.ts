import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort } from 'node:worker_threads';
import { exceedsJsonDepth } from './depth.js';
import { sliceJson, type SliceOp } from './json-slices.js';
import type { ParseReply, ParseRequest } from './frame-parser.js';

/**
 * A parser thread of FrameParser: decodes, depth-checks and parses a frame, then hands the value
 * back in slices, one batch each time the main thread asks for the next.
 */
const port = parentPort!;

/**
 * Parsing is background work: on Linux, where a thread has an id of its own, this thread yields the
 * CPU to the event loop (nice 10). Elsewhere it runs at the process's priority.
 */
function lowerPriority(): void {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isSafeInteger(tid) && tid > 0) setPriority(tid, 10);
  } catch {
    // Not Linux, or not allowed: nothing to do.
  }
}
lowerPriority();

interface Job {
  batches: Generator<SliceOp[], void, void>;
  /** The batch to send next (read one ahead, so the last batch can say it is the last). */
  ahead: IteratorResult<SliceOp[], void>;
}

const jobs = new Map<number, Job>();

function send(id: number): void {
  const job = jobs.get(id);
  if (job === undefined) return;
  const ops = job.ahead.done ? [] : job.ahead.value;
  job.ahead = job.batches.next();
  const done = job.ahead.done === true;
  if (done) jobs.delete(id);
  port.postMessage({ id, ops, done } satisfies ParseReply);
}

port.on('message', (msg: ParseRequest) => {
  if (msg.type === 'next') return send(msg.id);
  if (msg.type === 'drop') {
    jobs.delete(msg.id);
    return;
  }
  const { bytes } = msg;
  const text = typeof bytes === 'string' ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  if (exceedsJsonDepth(text, msg.maxDepth)) {
    port.postMessage({ id: msg.id, error: 'depth' } satisfies ParseReply);
    return;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    port.postMessage({ id: msg.id, error: 'syntax', message: (err as Error).message } satisfies ParseReply);
    return;
  }
  const batches = sliceJson(value, msg.batchBytes);
  jobs.set(msg.id, { batches, ahead: batches.next() });
  send(msg.id);
});
