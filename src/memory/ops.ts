import type { ConsolidationPlan } from './consolidation.js';
import type { SkillInput } from './skills.js';
import type { FactInput } from './types.js';

/**
 * Every change to a graph, as data. Applying an op is deterministic given the graph it is applied
 * to, so the durable log stores ops and recovery replays them in order. Anything that depends on
 * the clock or on unlogged state (query access counts) is decided before the op is written and
 * carried inside it.
 */
export type MemoryOp =
  | { op: 'add'; at: string; origin: string | null; fact: FactInput }
  | { op: 'delete'; id: string }
  | { op: 'inject'; id: string; at: string }
  | { op: 'consolidate'; at: string; plan: ConsolidationPlan }
  | { op: 'skill_ingest'; at: string; skills: SkillInput[] }
  | { op: 'skill_report'; at: string; name: string; tenant_id: string | null; outcome: 'success' | 'fail' };

export type MemoryOpName = MemoryOp['op'];
