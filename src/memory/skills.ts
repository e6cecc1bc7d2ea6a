import { termSet, words } from './text.js';
import { MemoryError, type SkillRecord } from './types.js';
import { round } from '../util/values.js';

export const GLOBAL_DOMAIN = 'global';
export const DEFAULT_EVOLUTION_THRESHOLD = 0.6;

export interface SkillInput {
  name: string;
  code: string;
  platform?: string;
  persona?: string;
  url_pattern?: string;
  task_keywords?: string[];
  description?: string;
  domain?: string;
  when_to_apply?: string;
  source?: string;
  tenant_id?: string | null;
  /** Name of a skill this one replaces; that skill is deprecated (kept, no longer found). */
  supersedes?: string | null;
}

export interface SkillQuery {
  persona?: string;
  url?: string;
  task?: string;
  tenant_id?: string | null;
}

export interface SkillStats {
  success_count: number;
  fail_count: number;
  success_rate: number;
  degraded: boolean;
  broken_for_repair: boolean;
  last_outcome: 'success' | 'fail' | null;
  last_used_at: string | null;
}

export interface SkillMatch {
  skill: SkillRecord;
  match_score: number;
}

/** Degraded (and flagged for repair) once failures outnumber successes by more than two. */
export function isDegraded(s: Pick<SkillRecord, 'success_count' | 'fail_count'>): boolean {
  return s.fail_count > s.success_count + 2;
}

/** How a skill is shown to clients (WS and MCP alike): the record plus its stats. */
export function skillView(s: SkillRecord) {
  const stats = statsOf(s);
  return {
    name: s.name,
    code: s.code,
    platform: s.platform,
    persona: s.persona,
    url_pattern: s.url_pattern,
    task_keywords: s.task_keywords,
    description: s.description,
    domain: s.domain,
    when_to_apply: s.when_to_apply,
    source: s.source,
    deprecated: s.deprecated,
    superseded_by: s.superseded_by,
    degraded: stats.degraded,
    stats,
  };
}

export function statsOf(s: SkillRecord): SkillStats {
  const total = s.success_count + s.fail_count;
  const degraded = isDegraded(s);
  return {
    success_count: s.success_count,
    fail_count: s.fail_count,
    success_rate: total === 0 ? 0 : s.success_count / total,
    degraded,
    broken_for_repair: degraded,
    last_outcome: s.last_outcome,
    last_used_at: s.last_used_at,
  };
}

function key(tenant: string | null, name: string): string {
  return `${tenant === null ? '-' : `t${tenant}`}\u0000${name}`;
}

/** `*` matches any run of characters; the pattern must match from the start of the URL. */
export function urlPatternMatches(pattern: string, url: string): boolean {
  if (pattern === '' || url === '') return false;
  const re = new RegExp(`^${pattern.split('*').map(escapeRegExp).join('.*')}`, 'i');
  return re.test(url);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
}

const WEIGHTS = { persona: 0.2, url: 0.3, task: 0.5 } as const;

/**
 * Skills as trigger-context nodes: persona, URL pattern and task keywords. Matching scores each
 * signal the caller supplied, then scales by past success (Laplace-smoothed), so a skill that
 * keeps failing sinks but, as the upstream contract says, still shows up with its flag set.
 */
export class SkillStore {
  private readonly skills = new Map<string, SkillRecord>();
  private nextIndex = 0;

  get size(): number {
    return this.skills.size;
  }

  all(): SkillRecord[] {
    return [...this.skills.values()].sort((a, b) => a.index - b.index);
  }

  get(name: string, tenant: string | null = null): SkillRecord | undefined {
    return this.skills.get(key(tenant, name));
  }

  clear(): void {
    this.skills.clear();
    this.nextIndex = 0;
  }

  /** Restore records from a snapshot. */
  load(records: readonly SkillRecord[]): void {
    this.clear();
    for (const r of records) {
      this.skills.set(key(r.tenant_id, r.name), { ...r });
      this.nextIndex = Math.max(this.nextIndex, r.index + 1);
    }
  }

  /** Add a skill, or update the one with the same name (its stats and index are kept). */
  ingest(input: SkillInput, at: string): SkillRecord {
    const tenant = input.tenant_id ?? null;
    if (input.supersedes && input.supersedes !== input.name) {
      const old = this.skills.get(key(tenant, input.supersedes));
      if (old) {
        old.deprecated = true;
        old.superseded_by = input.name;
      }
    }
    const existing = this.skills.get(key(tenant, input.name));
    const record: SkillRecord = {
      index: existing?.index ?? this.nextIndex++,
      name: input.name,
      code: input.code,
      platform: input.platform ?? '',
      persona: input.persona ?? '',
      url_pattern: input.url_pattern ?? '',
      task_keywords: [...(input.task_keywords ?? [])],
      description: input.description ?? '',
      domain: input.domain?.trim() ? input.domain.trim() : GLOBAL_DOMAIN,
      when_to_apply: input.when_to_apply ?? '',
      source: input.source ?? 'ingest',
      tenant_id: tenant,
      created_at: existing?.created_at ?? at,
      deprecated: false,
      superseded_by: null,
      success_count: existing?.success_count ?? 0,
      fail_count: existing?.fail_count ?? 0,
      last_outcome: existing?.last_outcome ?? null,
      last_used_at: existing?.last_used_at ?? null,
    };
    this.skills.set(key(tenant, input.name), record);
    return record;
  }

  report(name: string, outcome: 'success' | 'fail', at: string, tenant: string | null = null): SkillRecord {
    const skill = this.skills.get(key(tenant, name));
    if (!skill) throw new MemoryError(`unknown skill '${name}'`, 'not_found');
    if (outcome === 'success') skill.success_count++;
    else skill.fail_count++;
    skill.last_outcome = outcome;
    skill.last_used_at = at;
    return skill;
  }

  /** Best matches first; skills that match none of the supplied signals are left out. */
  find(q: SkillQuery, max: number): SkillMatch[] {
    const tenant = q.tenant_id ?? null;
    const persona = q.persona?.trim().toLowerCase() ?? '';
    const url = q.url?.trim() ?? '';
    const taskTerms = termSet(q.task ?? '');
    let weightSum = 0;
    if (persona) weightSum += WEIGHTS.persona;
    if (url) weightSum += WEIGHTS.url;
    if (taskTerms.size > 0) weightSum += WEIGHTS.task;
    if (weightSum === 0) return [];

    const out: SkillMatch[] = [];
    for (const skill of this.skills.values()) {
      if (skill.deprecated || skill.tenant_id !== tenant) continue;
      let relevance = 0;
      if (persona) relevance += WEIGHTS.persona * personaScore(skill.persona, persona);
      if (url) relevance += WEIGHTS.url * (urlPatternMatches(skill.url_pattern, url) ? 1 : 0);
      if (taskTerms.size > 0) relevance += WEIGHTS.task * taskScore(skill, taskTerms);
      relevance /= weightSum;
      if (relevance <= 0) continue;
      const rate = (skill.success_count + 1) / (skill.success_count + skill.fail_count + 2);
      out.push({ skill, match_score: round(relevance * (0.75 + 0.25 * rate), 4) });
    }
    out.sort((a, b) => b.match_score - a.match_score || a.skill.index - b.skill.index);
    return out.slice(0, Math.max(1, max));
  }

  /** Global skills plus, when a domain is given, that domain's; deprecated ones included (flagged). */
  list(domain: string | undefined, tenant: string | null = null): SkillRecord[] {
    return this.all().filter(
      (s) => s.tenant_id === tenant && (domain === undefined || s.domain === domain || s.domain === GLOBAL_DOMAIN),
    );
  }

  /** Domains (not `global`) whose pooled success rate is below `threshold`; sorted. */
  domainsNeedingEvolution(threshold: number, tenant: string | null = null): string[] {
    const pooled = new Map<string, { s: number; f: number }>();
    for (const skill of this.skills.values()) {
      if (skill.tenant_id !== tenant || skill.domain === GLOBAL_DOMAIN || skill.deprecated) continue;
      const p = pooled.get(skill.domain) ?? { s: 0, f: 0 };
      p.s += skill.success_count;
      p.f += skill.fail_count;
      pooled.set(skill.domain, p);
    }
    const out: string[] = [];
    for (const [domain, { s, f }] of pooled) if (s + f > 0 && s / (s + f) < threshold) out.push(domain);
    return out.sort();
  }
}

function personaScore(skillPersona: string, persona: string): number {
  const mine = skillPersona.trim().toLowerCase();
  if (!mine) return 0;
  if (mine === persona) return 1;
  const a = new Set(words(mine));
  const shared = words(persona).filter((w) => a.has(w)).length;
  return shared > 0 ? 0.5 * (shared / Math.max(a.size, 1)) : 0;
}

function taskScore(skill: SkillRecord, taskTerms: Set<string>): number {
  const keywords = new Set(skill.task_keywords.flatMap((k) => [...termSet(k)]));
  const kwHits = keywords.size === 0 ? 0 : [...keywords].filter((k) => taskTerms.has(k)).length / keywords.size;
  const described = termSet(`${skill.name} ${skill.description} ${skill.when_to_apply}`);
  const overlap = [...taskTerms].filter((t) => described.has(t)).length / taskTerms.size;
  return keywords.size === 0 ? overlap : 0.7 * kwHits + 0.3 * overlap;
}
