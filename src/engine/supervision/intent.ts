import { createHash } from 'node:crypto';
import { canonicalJson } from '../../util/canonical-json.js';
import { rollbackContract, type ActionProposal, type ActionType } from '../ir.js';

/** One action as a supervisor sees it: the parameter names and a digest, never the values. */
export interface IntentAction {
  id: string;
  action_type: ActionType;
  tool?: string;
  reversibility: string;
  parameter_keys: string[];
  parameters_digest: string;
}

export interface SupervisionIntent {
  id: string;
  proposal_id: string;
  source: string;
  session_id?: string;
  scope?: unknown;
  reversibility: string;
  created_at: string;
  actions: IntentAction[];
}

/** Hex SHA-256 of the canonical JSON of an action's parameters. */
export function parametersDigest(parameters: Record<string, unknown>): string {
  return createHash('sha256').update(canonicalJson(parameters)).digest('hex');
}

export function buildIntent(
  id: string,
  proposal: ActionProposal,
  origin: { sessionId?: string; scope?: unknown },
  now: Date = new Date(),
): SupervisionIntent {
  const intent: SupervisionIntent = {
    id,
    proposal_id: proposal.id,
    source: proposal.source,
    reversibility: rollbackContract(proposal.actions),
    created_at: now.toISOString(),
    actions: proposal.actions.map((a) => {
      const row: IntentAction = {
        id: a.id,
        action_type: a.type,
        reversibility: a.reversibility,
        parameter_keys: Object.keys(a.parameters).sort(),
        parameters_digest: parametersDigest(a.parameters),
      };
      if (a.tool !== undefined) row.tool = a.tool;
      return row;
    }),
  };
  if (origin.sessionId !== undefined) intent.session_id = origin.sessionId;
  if (origin.scope !== undefined) intent.scope = origin.scope;
  return intent;
}
