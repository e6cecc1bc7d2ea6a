import { executeProposal, type ExecuteOptions } from '../src/engine/executor/index.js';
import { parseProposal } from '../src/engine/ir.js';
import { StateStore } from '../src/engine/state-store.js';
import type { ToolCall, ToolExecutor, ToolOutcome } from '../src/engine/tool-executor.js';
import { log } from './log.js';
import { formatNumber, formatTable } from './table.js';

/**
 * Eager scheduling against the upstream's level-by-level order, in process: one slow action
 * (1 s) next to a 50-action dependency chain of instant tools. Reported: when the chain's last
 * action finished, and when the whole proposal did.
 */
export const SCHEDULE_SETTINGS = { slowMs: 1000, chain: 50 } as const;

function proposal(): ReturnType<typeof parseProposal> {
  const { chain } = SCHEDULE_SETTINGS;
  const actions: unknown[] = [{ id: 'slow', type: 'tool_call', tool: 'slow' }];
  for (let i = 0; i < chain; i++) {
    actions.push({ id: `f${i}`, type: 'tool_call', tool: 'fast', dependencies: i === 0 ? [] : [`f${i - 1}`] });
  }
  return parseProposal({ id: 'bench-schedule', actions });
}

/** The slow tool answers after `slowMs`; the fast ones on the next turn. Records when the chain ended. */
class TimedTools implements ToolExecutor {
  chainDoneAt = 0;

  execute(call: ToolCall): Promise<ToolOutcome> {
    if (call.tool === 'slow') {
      return new Promise((resolve) => setTimeout(() => resolve({ ok: true, output: 'slow', durationMs: SCHEDULE_SETTINGS.slowMs }), SCHEDULE_SETTINGS.slowMs));
    }
    return new Promise((resolve) =>
      setImmediate(() => {
        if (call.actionId === `f${SCHEDULE_SETTINGS.chain - 1}`) this.chainDoneAt = performance.now();
        resolve({ ok: true, output: 'fast', durationMs: 0 });
      }),
    );
  }
}

async function measure(schedule: ExecuteOptions['schedule']): Promise<{ chainMs: number; totalMs: number }> {
  const tools = new TimedTools();
  const t0 = performance.now();
  const result = await executeProposal(proposal(), { executor: tools, store: new StateStore(), schedule });
  const totalMs = performance.now() - t0;
  if (result.results.some((r) => r.status !== 'succeeded')) throw new Error(`schedule ${schedule}: not every action succeeded`);
  return { chainMs: tools.chainDoneAt - t0, totalMs };
}

export async function runScheduleBench(): Promise<void> {
  log('schedule: eager vs level by level (about 2 s)');
  const eager = await measure('eager');
  const levels = await measure('levels');
  const s = SCHEDULE_SETTINGS;
  const table = formatTable(
    ['schedule', `${s.chain}-action fast chain done ms`, 'proposal done ms'],
    [
      ['eager (ours)', formatNumber(eager.chainMs), formatNumber(eager.totalMs)],
      ['level by level (upstream)', formatNumber(levels.chainMs), formatNumber(levels.totalMs)],
    ],
    ['left', 'right', 'right'],
  );
  process.stdout.write(
    `\nscheduling: one ${s.slowMs} ms action beside a ${s.chain}-action chain of instant tools (in process)\n${table}\n` +
      `the fast chain finishes ${(levels.chainMs / Math.max(eager.chainMs, 0.001)).toFixed(0)}x sooner under eager scheduling\n`,
  );
}
