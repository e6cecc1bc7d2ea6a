import type { FactGraph, FactNode } from './graph.js';
import { normalizeSubject, terms } from './text.js';
import type { FactRecord } from './types.js';

/** Weight of the edge from a fact to one it superseded. */
export const SUPERSEDES_WEIGHT = 0.5;
/** A superseded fact keeps this share of its activation, and never ranks above its successor. */
export const SUPERSEDED_PENALTY = 0.35;

/**
 * Words that name a single-valued attribute (canonical terms, see `terms`): a fact whose subject
 * ends with one, or whose body reads "<attribute>: value" / "<attribute> is value", sets that
 * attribute, and a newer fact setting the same attribute of the same subject replaces it.
 */
const SLOT_WORDS = new Set(
  terms(
    'port region database language manager city email phone address zone owner lead version status deadline ' +
      'budget location office title role team channel size repository sla host url endpoint salary birthday ' +
      'cloud provider framework runtime department floor desk extension capacity hours wireless password ' +
      'release name codename customer vendor tier plan priority stage license domain ip server cluster ' +
      'country state timezone headquarters contact sponsor mentor partner spouse age goal target',
  ),
);

/** Nouns that name a kind of entity ("Lisbon office"), not one of its attributes, at the end of a subject. */
const ENTITY_NOUNS = new Set(
  terms('office team department headquarters server cluster host customer vendor partner channel plan project service domain state country'),
);

/** "key: value" keys that announce a remark, not an attribute. */
const REMARK_KEYS = new Set(terms('note notes todo fyi update tip warning idea question news remark comment aside ps'));

/** Verb phrases that set an attribute without naming it. */
const SLOT_PHRASES: readonly [RegExp, string][] = [
  [/^(?:now |currently )?reports? (?:directly )?to\b/i, 'manager'],
  [/^(?:now |currently )?(?:works|working|sits|based|moved|relocated) (?:from|in|at|out of|to) the [\p{L}\p{N} -]+ office\b/iu, 'office'],
  [/^(?:now |currently )?(?:lives|living|moved|relocated) (?:in|to)\b/i, 'city'],
  [/^(?:now )?(?:ships|launches|releases|goes live) (?:on|in)\b/i, 'release date'],
  [/^(?:now )?(?:stores|keeps) (?:its |their |all )?(?:data|records) (?:in|on)\b/i, 'database'],
  [/^(?:is )?(?:written|implemented|built) in\b/i, 'language'],
  [/^(?:now )?(?:runs|hosted|deployed) (?:in|on|to)\b/i, 'region'],
  [/^(?:is )?(?:owned by|part of|belongs to)\b/i, 'owner'],
  [/^(?:is )?led by\b|\bleads the (?:project|team)\b/i, 'lead'],
  [/^(?:the )?(?:release|launch) (?:is )?(?:planned|scheduled|set|moved) (?:for|to)\b/i, 'release date'],
];

/** Longest body, in words, still read as a bare value of the subject ("us-east-1", "Postgres 16"). */
const VALUE_WORDS = 2;

/**
 * The attribute a fact sets, or null for a free statement (which never replaces another). The
 * empty string means the subject itself is the attribute ("region" → "eu-west-1").
 */
export function slotOf(subject: string, body: string): string | null {
  const key = /^\s*([^:=\n]{1,40}?)\s*[:=]\s*\S/u.exec(body)?.[1];
  if (key !== undefined) {
    const t = terms(key);
    if (t.length > 0 && t.length <= 3 && !REMARK_KEYS.has(t[0]!)) return t.join(' ');
  }
  const copula = /^\s*(?:(?:the|her|his|their|its|our|my|current|new)\s+)*([\p{L}\p{N}][\p{L}\p{N} -]{0,30}?)\s+(?:is|are|was|=)\s+\S/iu.exec(body)?.[1];
  if (copula !== undefined) {
    const t = terms(copula);
    const last = t[t.length - 1];
    if (last !== undefined && t.length <= 3 && SLOT_WORDS.has(last)) return last;
  }
  for (const [re, slot] of SLOT_PHRASES) if (re.test(body)) return slot;
  const s = terms(subject);
  const tail = s[s.length - 1];
  if (tail !== undefined && SLOT_WORDS.has(tail) && !ENTITY_NOUNS.has(tail)) return tail;
  if (body.trim().split(/\s+/).length <= VALUE_WORDS) return '';
  return null;
}

/** Same terms, in any order and inflection: a restatement rather than a new fact. */
function nearDuplicate(a: string, b: string): boolean {
  const x = new Set(terms(a));
  const y = new Set(terms(b));
  if (x.size === 0 || x.size !== y.size) return false;
  for (const t of x) if (!y.has(t)) return false;
  return true;
}

/** Why a new fact replaces an older one: the same attribute set again, or the same statement reworded. */
export type SupersessionReason = 'slot' | 'restated' | 'explicit';

/**
 * Mark the facts a new one supersedes: older valid facts of its tenant with the same subject
 * (case, spacing and separators ignored), kind and memory type that it really replaces — the same
 * attribute set to a new value, or the same statement reworded — plus the fact named by an
 * explicit `supersedes`. Distinct facts about one subject never replace each other. The old facts
 * stay valid (and stored) until consolidation retires them. Returns their ids.
 */
export function supersede(graph: FactGraph, record: FactRecord, explicit: string | null = null): string[] {
  const out: string[] = [];
  const body = normalizeSubject(record.body);
  const slot = slotOf(record.subject, record.body);
  for (const ix of graph.subjectMates(record)) {
    const old = graph.get(ix);
    if (!old || old.superseded_by !== null) continue;
    if (old.kind !== record.kind || old.memory_type !== record.memory_type) continue;
    if (normalizeSubject(old.body) === body) continue;
    const sameSlot = slot !== null && slotOf(old.subject, old.body) === slot;
    if (!sameSlot && !nearDuplicate(old.body, record.body)) continue;
    old.superseded_by = record.id;
    out.push(old.id);
  }
  if (explicit !== null) {
    const old = graph.getById(explicit);
    if (old && old.valid && old.tenant_id === record.tenant_id && old.superseded_by === null && !out.includes(old.id)) {
      old.superseded_by = record.id;
      out.push(old.id);
    }
  }
  return out;
}

/** Push superseded facts below their successors among scored results (in place). */
export function rankBelowSuccessors(scored: { node: FactNode; score: number }[]): void {
  const byId = new Map(scored.map((s) => [s.node.id, s]));
  for (const s of scored) {
    const successor = s.node.superseded_by === null ? undefined : byId.get(s.node.superseded_by);
    if (successor && s.score >= successor.score) s.score = successor.score * 0.9;
  }
}
