import { z } from 'zod';
import { parseProposal, type ActionProposal } from '../engine/ir.js';

/** Params of a method that takes none: `{}` (extra keys tolerated), `[]`, or absent. */
export const noParams = z.union([z.object({}).loose(), z.array(z.unknown()).max(0)]);

/** Parse a proposal from params; a malformed one is a ProposalError (-32602 naming the action and field). */
export function readProposal(raw: unknown): ActionProposal {
  return parseProposal(raw);
}

/** A `proposal` param, parsed into the proposal IR by the params gate (so the gates after it can judge it). */
export const proposalSchema = z.unknown().transform((raw) => readProposal(raw));
