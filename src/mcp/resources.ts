import type { MemoryScope } from '../memory/scope.js';
import { statsOf } from '../memory/skills.js';
import { CarError } from '../util/errors.js';

/** The one fixed resource: what the graph holds. Facts and skills follow it in listings. */
export const GRAPH_URI = 'car://memory/graph';
const FACT_PREFIX = 'car://memory/facts/';
const SKILL_PREFIX = 'car://skills/';

export interface ResourceEntry {
  uri: string;
  name: string;
  description?: string;
  mimeType: string;
}

export interface ResourcePage {
  resources: ResourceEntry[];
  nextCursor?: string;
}

/** A listing position: the graph entry, then facts from node index `f`, then skills from `s`. */
interface Position {
  f: number;
  s: number;
}

function encodeCursor(p: Position): string {
  return Buffer.from(JSON.stringify(p)).toString('base64url');
}

function decodeCursor(cursor: string | undefined): Position | null {
  if (cursor === undefined) return null;
  try {
    const p = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Position;
    if (Number.isSafeInteger(p.f) && Number.isSafeInteger(p.s) && p.f >= 0 && p.s >= 0) return p;
  } catch {
    // fall through
  }
  throw new CarError('invalid', 'invalid cursor', { field: 'cursor' });
}

export function factUri(id: string): string {
  return FACT_PREFIX + encodeURIComponent(id);
}

export function skillUri(name: string): string {
  return SKILL_PREFIX + encodeURIComponent(name);
}

/** One page of `resources/list` over a graph, at most `pageSize` entries. */
export function listResources(scope: MemoryScope, cursor: string | undefined, pageSize: number): ResourcePage {
  const start = decodeCursor(cursor);
  const out: ResourceEntry[] = [];
  if (start === null) {
    out.push({ uri: GRAPH_URI, name: 'memory graph', description: 'Fact and skill counts of the shared memory graph', mimeType: 'application/json' });
  }
  const graph = scope.engine.graph;
  let f = start?.f ?? 0;
  for (; f < graph.capacity && out.length < pageSize; f++) {
    const n = graph.get(f);
    if (n?.valid) out.push({ uri: factUri(n.id), name: n.subject.slice(0, 120) || n.id, description: `${n.kind} fact`, mimeType: 'application/json' });
  }
  const skills = scope.engine.skills.list(undefined);
  let s = start?.s ?? 0;
  if (f >= graph.capacity) {
    for (; s < skills.length && out.length < pageSize; s++) {
      const k = skills[s]!;
      out.push({ uri: skillUri(k.name), name: k.name, description: k.description ?? 'skill', mimeType: 'application/json' });
    }
  }
  const more = f < graph.capacity || s < skills.length;
  return more ? { resources: out, nextCursor: encodeCursor({ f, s }) } : { resources: out };
}

/** The text of a resource, or undefined when the graph has no such resource (now). */
export function readResource(scope: MemoryScope, uri: string): string | undefined {
  if (uri === GRAPH_URI) {
    return JSON.stringify({
      scope: scope.label,
      fact_count: scope.engine.factCount,
      skill_count: scope.engine.skills.list(undefined).length,
    });
  }
  if (uri.startsWith(FACT_PREFIX)) {
    const node = scope.engine.graph.getById(decode(uri.slice(FACT_PREFIX.length)));
    if (!node?.valid) return undefined;
    const { ix: _ix, ...record } = node;
    return JSON.stringify(record);
  }
  if (uri.startsWith(SKILL_PREFIX)) {
    const skill = scope.engine.skills.get(decode(uri.slice(SKILL_PREFIX.length)), null);
    if (!skill) return undefined;
    return JSON.stringify({ ...skill, stats: statsOf(skill) });
  }
  return undefined;
}

/** Resource URIs starting with `prefix`, for `completion/complete` (at most `max`). */
export function completeUri(scope: MemoryScope, prefix: string, max: number): { values: string[]; total: number } {
  const all = [GRAPH_URI];
  const graph = scope.engine.graph;
  for (let ix = 0; ix < graph.capacity; ix++) {
    const n = graph.get(ix);
    if (n?.valid) all.push(factUri(n.id));
  }
  for (const k of scope.engine.skills.list(undefined)) all.push(skillUri(k.name));
  const hits = all.filter((u) => u.startsWith(prefix));
  return { values: hits.slice(0, max), total: hits.length };
}

function decode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}
