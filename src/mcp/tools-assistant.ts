import { z } from 'zod';
import { CarError } from '../util/errors.js';
import type { AssistantRuns } from './assistant.js';
import type { McpHost } from './host.js';
import { defineTool, READ_ONLY, WRITES, type McpTool } from './tool.js';

function runs(host: McpHost): AssistantRuns {
  if (!host.assistant) throw new CarError('unavailable', 'the assistant runs on the daemon only');
  return host.assistant;
}

const runId = z.string().min(1).max(256);
const event = z.object({ seq: z.number().int(), type: z.string() }).loose();

export const assistantStart = defineTool({
  name: 'assistant_start',
  title: 'Start an assistant run',
  description: "Start a tool-using run on the daemon's model over these tools; poll it with assistant_poll.",
  input: {
    task: z.string().min(1).max(64 * 1024),
    cwd: z.string().min(1).max(4096).describe('The caller\'s working directory (reported in the sandbox; no tool touches files)'),
    until: z.string().max(4096).optional().describe('When the run should stop, in words'),
    local: z.boolean().optional().describe('Prefer a local model'),
    invoked_by: z.string().max(256).optional(),
  },
  output: z.object({ run_id: z.string(), status: z.literal('running'), poll_after_ms: z.number().int(), sandbox: z.object({}).loose() }),
  hints: WRITES,
  daemonOnly: true,
  run: (p, { host }) => runs(host).start(p),
});

export const assistantPoll = defineTool({
  name: 'assistant_poll',
  title: 'Poll an assistant run',
  description: 'The events of a run from since_seq on, its status, and its result once finished.',
  input: { run_id: runId, since_seq: z.number().int().min(0).optional().describe('First event wanted (default 0)') },
  output: z
    .object({
      status: z.enum(['running', 'ok', 'error', 'cancelled']),
      events: z.array(event),
      next_seq: z.number().int(),
      events_skipped: z.number().int(),
      result: z.object({ schema: z.literal('car.do/1') }).loose().optional(),
      error: z.string().optional(),
    })
    .loose(),
  hints: READ_ONLY,
  daemonOnly: true,
  run: (p, { host }) => runs(host).poll(p.run_id, p.since_seq ?? 0),
});

export const assistantCancel = defineTool({
  name: 'assistant_cancel',
  title: 'Cancel an assistant run',
  description: 'Ask a run to stop; it stops at its next turn boundary.',
  input: { run_id: runId },
  output: z.object({ run_id: z.string(), status: z.string(), cancel_requested: z.boolean() }),
  hints: { readOnlyHint: false, destructiveHint: true, idempotentHint: true },
  daemonOnly: true,
  run: (p, { host }) => runs(host).cancel(p.run_id),
});

export const assistantTools: McpTool[] = [assistantStart, assistantPoll, assistantCancel];
