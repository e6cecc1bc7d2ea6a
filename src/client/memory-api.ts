import * as memory from './memory.js';
import type { RpcCall } from './memory.js';

type Helper = (call: RpcCall, ...rest: never[]) => unknown;
type Bound<F> = F extends (call: RpcCall, ...rest: infer A) => infer R ? (...rest: A) => R : never;

const HELPERS = {
  addFact: memory.addFact,
  queryFacts: memory.queryFacts,
  factCount: memory.factCount,
  buildContext: memory.buildContext,
  buildContextFast: memory.buildContextFast,
  consolidate: memory.consolidate,
  persistMemory: memory.persistMemory,
  loadMemory: memory.loadMemory,
  updateStatus: memory.memoryUpdateStatus,
  saveKnowledge: memory.memorySaveKnowledge,
  saveProcedural: memory.memorySaveProcedural,
  deleteMemory: memory.memoryDelete,
  intervene: memory.memoryIntervene,
  evaluate: memory.memoryEvaluate,
  maintain: memory.memoryMaintain,
  utilityGet: memory.memoryUtilityGet,
  utilitySet: memory.memoryUtilitySet,
  ingestSkill: memory.ingestSkill,
  findSkill: memory.findSkill,
  reportOutcome: memory.reportOutcome,
  listSkills: memory.listSkills,
  ingestDistilledSkills: memory.ingestDistilledSkills,
  domainsNeedingEvolution: memory.domainsNeedingEvolution,
  distillSkills: memory.distillSkills,
  evolveSkills: memory.evolveSkills,
  repairSkill: memory.repairSkill,
} as const;

export type MemoryApi = { [K in keyof typeof HELPERS]: Bound<(typeof HELPERS)[K]> };

/** The memory and skill helpers of `./memory.ts`, bound to one connection. */
export function memoryApi(call: RpcCall): MemoryApi {
  const api: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(HELPERS) as [string, Helper][]) {
    api[name] = (...rest: never[]) => fn(call, ...rest);
  }
  return api as MemoryApi;
}
