import { z } from 'zod';
import { parseProposal, ProposalError, type ActionProposal } from '../engine/ir.js';
import { RpcError } from '../rpc/errors.js';

/** Params of a method that takes none: `{}` (extra keys tolerated), `[]`, or absent. */
export const noParams = z.union([z.object({}).loose(), z.array(z.unknown()).max(0)]);

/** Parse a proposal from params; a malformed one is -32602 naming the action and field. */
export function readProposal(raw: unknown): ActionProposal {
  try {
    return parseProposal(raw);
  } catch (err) {
    if (err instanceof ProposalError) {
      const data: Record<string, unknown> = { path: err.path };
      if (err.actionId !== undefined) data.action_id = err.actionId;
      throw RpcError.invalidParams(err.message, data);
    }
    throw err;
  }
}

/** A `proposal` param, parsed into the proposal IR by the params gate (so the gates after it can judge it). */
export const proposalSchema = z.unknown().transform((raw) => readProposal(raw));
