import { REVERSIBILITIES } from '../ir.js';
import type { SupervisionIntent } from './intent.js';

/** What a supervisor wants to see; every absent field matches everything. */
export interface SupervisionFilter {
  tools?: readonly string[];
  sessions?: readonly string[];
  min_reversibility?: string;
}

/** Position on the reversible → irreversible scale; a label we do not know counts as the worst. */
export function severity(label: string): number {
  const i = (REVERSIBILITIES as readonly string[]).indexOf(label);
  return i === -1 ? REVERSIBILITIES.length - 1 : i;
}

/**
 * `tools`: some action calls one of them. `sessions`: the intent's session is listed.
 * `min_reversibility`: some action is at that level or worse.
 */
export function filterMatches(filter: SupervisionFilter, intent: SupervisionIntent): boolean {
  if (filter.tools !== undefined) {
    const wanted = new Set(filter.tools);
    if (!intent.actions.some((a) => a.tool !== undefined && wanted.has(a.tool))) return false;
  }
  if (filter.sessions !== undefined) {
    if (intent.session_id === undefined || !filter.sessions.includes(intent.session_id)) return false;
  }
  if (filter.min_reversibility !== undefined) {
    const floor = severity(filter.min_reversibility);
    if (!intent.actions.some((a) => severity(a.reversibility) >= floor)) return false;
  }
  return true;
}
