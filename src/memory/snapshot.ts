import type { MemoryEngine } from './engine.js';
import { GLOBAL_DOMAIN } from './skills.js';
import { MemoryError, MEMORY_TYPES, type EdgeRecord, type FactKind, type FactRecord, type MemoryType, type SkillRecord } from './types.js';
import { isObject } from '../util/values.js';

export const SNAPSHOT_FORMAT = 'car-memgine';
export const SNAPSHOT_VERSION = 1;

/** The flat JSON file `memory.persist` writes and durable scopes snapshot to. */
export interface SnapshotData {
  /** Last durable-log sequence number folded into this snapshot (0 for a plain persist). */
  seq: number;
  next_auto_id: number;
  facts: FactRecord[];
  edges: EdgeRecord[];
  skills: SkillRecord[];
}

export function snapshotOf(engine: MemoryEngine, seq = 0): SnapshotData {
  const facts: FactRecord[] = [];
  for (const node of engine.graph.all()) {
    const { ix: _ix, ...record } = node;
    facts.push(record);
  }
  return { seq, next_auto_id: engine.autoIdCounter, facts, edges: engine.graph.edgeRecords(), skills: engine.skills.all() };
}

export function serializeSnapshot(data: SnapshotData): string {
  return JSON.stringify({
    format: SNAPSHOT_FORMAT,
    version: SNAPSHOT_VERSION,
    saved_at: new Date().toISOString(),
    seq: data.seq,
    next_auto_id: data.next_auto_id,
    fact_count: data.facts.filter((f) => f.valid).length,
    facts: data.facts,
    edges: data.edges,
    skills: data.skills,
  });
}

/**
 * Parse a snapshot, all or nothing. Besides our own format it takes a bare array of facts and the
 * bundle seed shape `{text, kind: "Constraint", confidence}`; kinds are matched case-insensitively.
 */
export function parseSnapshot(text: string, origin = 'memory file'): SnapshotData {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new MemoryError(`${origin} is not valid JSON: ${(err as Error).message}`, 'corrupt');
  }
  const top = Array.isArray(raw) ? { facts: raw } : raw;
  if (!isObject(top) || !Array.isArray(top.facts)) {
    throw new MemoryError(`${origin} has no "facts" array`, 'corrupt');
  }
  const now = new Date().toISOString();
  const facts = top.facts.map((f, i) => parseFact(f, i, now, origin));
  const edges = Array.isArray(top.edges) ? top.edges.filter(isEdge) : [];
  const skills = Array.isArray(top.skills) ? top.skills.map((s, i) => parseSkill(s, i, now, origin)) : [];
  return {
    seq: nonNegInt(top.seq, 0),
    next_auto_id: Math.max(1, nonNegInt(top.next_auto_id, 1)),
    facts,
    edges,
    skills,
  };
}

function parseFact(f: unknown, i: number, now: string, origin: string): FactRecord {
  if (!isObject(f)) throw new MemoryError(`${origin}: facts[${i}] is not an object`, 'corrupt');
  const text = str(f.text);
  const subject = str(f.subject) ?? text;
  const body = str(f.body) ?? text ?? subject;
  if (subject === undefined || body === undefined) {
    throw new MemoryError(`${origin}: facts[${i}] has neither subject/body nor text`, 'corrupt');
  }
  const metadata = isObject(f.metadata) ? f.metadata : {};
  const kindRaw = (str(f.kind) ?? '').toLowerCase();
  const kind: FactKind = kindRaw === 'constraint' || f.is_constraint === true ? 'constraint' : 'pattern';
  const type = str(f.memory_type) as MemoryType | undefined;
  return {
    id: str(f.id) ?? str(f.fact_id) ?? `fact-${i + 1}`,
    subject,
    body,
    kind,
    confidence: confidenceOf(f.confidence),
    tags: Array.isArray(f.tags) ? f.tags.filter((t): t is string => typeof t === 'string') : [],
    source: str(f.source) ?? null,
    tenant_id: str(f.tenant_id) ?? str(metadata.tenant_id) ?? null,
    memory_type: type !== undefined && MEMORY_TYPES.includes(type) ? type : 'fact',
    created_at: str(f.created_at) ?? now,
    valid: f.valid !== false,
    superseded_by: str(f.superseded_by) ?? null,
    invalidated_at: str(f.invalidated_at) ?? null,
    access_count: nonNegInt(f.access_count, 0),
    injection_count: nonNegInt(f.injection_count, 0),
    last_accessed_at: str(f.last_accessed_at) ?? null,
    decayed_at: str(f.decayed_at) ?? null,
    origin: str(f.origin) ?? null,
  };
}

function parseSkill(s: unknown, i: number, now: string, origin: string): SkillRecord {
  if (!isObject(s) || str(s.name) === undefined) throw new MemoryError(`${origin}: skills[${i}] has no name`, 'corrupt');
  const outcome = s.last_outcome === 'success' || s.last_outcome === 'fail' ? s.last_outcome : null;
  return {
    index: nonNegInt(s.index, i),
    name: str(s.name)!,
    code: str(s.code) ?? '',
    platform: str(s.platform) ?? '',
    persona: str(s.persona) ?? '',
    url_pattern: str(s.url_pattern) ?? '',
    task_keywords: Array.isArray(s.task_keywords) ? s.task_keywords.filter((k): k is string => typeof k === 'string') : [],
    description: str(s.description) ?? '',
    domain: str(s.domain) ?? GLOBAL_DOMAIN,
    when_to_apply: str(s.when_to_apply) ?? '',
    source: str(s.source) ?? 'ingest',
    tenant_id: str(s.tenant_id) ?? null,
    created_at: str(s.created_at) ?? now,
    deprecated: s.deprecated === true,
    superseded_by: str(s.superseded_by) ?? null,
    success_count: nonNegInt(s.success_count, 0),
    fail_count: nonNegInt(s.fail_count, 0),
    last_outcome: outcome,
    last_used_at: str(s.last_used_at) ?? null,
  };
}

function isEdge(e: unknown): e is EdgeRecord {
  return (
    isObject(e) &&
    typeof e.from === 'string' &&
    typeof e.to === 'string' &&
    (e.kind === 'supersedes' || e.kind === 'co_occurrence' || e.kind === 'related') &&
    typeof e.weight === 'number' &&
    Number.isFinite(e.weight)
  );
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function nonNegInt(v: unknown, fallback: number): number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : fallback;
}

function confidenceOf(v: unknown): number {
  const n = typeof v === 'string' ? Number(v) : v;
  return typeof n === 'number' && Number.isFinite(n) ? Math.min(1, Math.max(0, n)) : 1;
}
