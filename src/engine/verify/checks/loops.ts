import type { Action } from '../../ir.js';
import { canonicalJson } from '../../../util/canonical-json.js';
import { issue, nameList, type CheckRun } from './check.js';

/** How many identical calls look like a model stuck in a loop. */
export const REPEATED_CALL_THRESHOLD = 3;

/**
 * The same tool called with the same parameters again and again. The only rule of thumb in
 * verify: repeats can be intended, so it warns, once per group, on the call that trips it.
 */
export function repeatedCalls(actions: readonly Action[]): CheckRun {
  const groups = new Map<string, string[]>();
  for (const a of actions) {
    if (a.type !== 'tool_call' || a.tool === undefined) continue;
    const key = `${a.tool}\u0000${canonicalJson(a.parameters)}`;
    const ids = groups.get(key);
    if (ids) ids.push(a.id);
    else groups.set(key, [a.id]);
  }
  const issues = [];
  for (const [key, ids] of groups) {
    if (ids.length < REPEATED_CALL_THRESHOLD) continue;
    const tool = key.slice(0, key.indexOf('\u0000'));
    issues.push(
      issue(
        ids[REPEATED_CALL_THRESHOLD - 1] as string,
        'warning',
        `tool '${tool}' is called ${ids.length} times with identical parameters (${nameList(ids)}); possible loop`,
        'heuristic',
      ),
    );
  }
  return { name: 'repeated_calls', ran: true, issues };
}
