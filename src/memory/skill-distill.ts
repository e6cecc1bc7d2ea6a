import type { SkillRecord } from './types.js';

/** A prompt for a text model: system instructions plus one user turn. */
export interface SkillPrompt {
  system: string;
  prompt: string;
}

/** A skill as a model proposes it (the `DistilledSkill` shape `skills.ingest_distilled` takes). */
export interface DistilledSkill {
  name: string;
  code: string;
  description?: string;
  when_to_apply?: string;
  domain?: string;
  platform?: string;
  trigger?: { persona?: string; url_pattern?: string; task_keywords?: string[] };
  source: string;
}

const SHAPE =
  'Answer with a JSON array only. Each element: {"name": snake_case string, "code": string, "description": string, ' +
  '"when_to_apply": string, "domain": string, "platform": string, "trigger": {"persona": string, "url_pattern": string, "task_keywords": [string]}}.';

/** At most this much of the events goes into a prompt. */
const MAX_EVENTS_CHARS = 48_000;

function eventsText(events: unknown[]): string {
  const text = JSON.stringify(events, null, 1);
  return text.length > MAX_EVENTS_CHARS ? `${text.slice(0, MAX_EVENTS_CHARS)}\n… (truncated)` : text;
}

export function distillPrompt(events: unknown[]): SkillPrompt {
  return {
    system: `You turn agent execution traces into reusable skills: short procedures that worked and the context that triggers them. ${SHAPE} Return [] when nothing is worth keeping.`,
    prompt: `Trace events:\n${eventsText(events)}`,
  };
}

export function evolvePrompt(events: unknown[], domain: string, current: SkillRecord[]): SkillPrompt {
  const skills = current.map((s) => ({ name: s.name, description: s.description, code: s.code, success: s.success_count, fail: s.fail_count }));
  return {
    system: `You improve the skills of an underperforming domain. Propose new or replacement skills that avoid the failures seen. ${SHAPE} Every element's domain is "${domain}".`,
    prompt: `Domain: ${domain}\nCurrent skills:\n${JSON.stringify(skills, null, 1)}\n\nRecent trace events:\n${eventsText(events)}`,
  };
}

export function repairPrompt(skill: SkillRecord): SkillPrompt {
  return {
    system: 'You repair a failing skill. Answer with the corrected code only, no explanation, no fences.',
    prompt:
      `Skill: ${skill.name}\nPlatform: ${skill.platform || 'unspecified'}\nDescription: ${skill.description || '-'}\n` +
      `Outcomes: ${skill.success_count} succeeded, ${skill.fail_count} failed\n\nCode:\n${skill.code}`,
  };
}

function stripFences(text: string): string {
  const m = /```[a-zA-Z0-9_-]*\n([\s\S]*?)```/.exec(text);
  return (m ? m[1]! : text).trim();
}

/** The JSON array in a model's answer (fenced or bare); rows without a name are dropped. */
export function parseDistilled(text: string, source: string, domain?: string): DistilledSkill[] {
  const body = stripFences(text);
  const start = body.indexOf('[');
  const end = body.lastIndexOf(']');
  if (start < 0 || end < start) return [];
  let rows: unknown;
  try {
    rows = JSON.parse(body.slice(start, end + 1));
  } catch {
    return [];
  }
  if (!Array.isArray(rows)) return [];
  const out: DistilledSkill[] = [];
  for (const r of rows) {
    if (!r || typeof r !== 'object') continue;
    const o = r as Record<string, unknown>;
    if (typeof o.name !== 'string' || o.name.trim() === '') continue;
    const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
    const trigger = o.trigger && typeof o.trigger === 'object' ? (o.trigger as Record<string, unknown>) : undefined;
    const keywords = Array.isArray(trigger?.task_keywords) ? trigger.task_keywords.filter((k): k is string => typeof k === 'string') : undefined;
    out.push({
      name: o.name.trim().slice(0, 256),
      code: str(o.code) ?? '',
      ...(str(o.description) !== undefined && { description: str(o.description) }),
      ...(str(o.when_to_apply) !== undefined && { when_to_apply: str(o.when_to_apply) }),
      ...((domain ?? str(o.domain)) !== undefined && { domain: domain ?? str(o.domain) }),
      ...(str(o.platform) !== undefined && { platform: str(o.platform) }),
      ...(trigger && {
        trigger: {
          ...(str(trigger.persona) !== undefined && { persona: str(trigger.persona) }),
          ...(str(trigger.url_pattern) !== undefined && { url_pattern: str(trigger.url_pattern) }),
          ...(keywords && { task_keywords: keywords }),
        },
      }),
      source,
    });
  }
  return out;
}

/** The repaired code in a model's answer; null when it is empty. */
export function parseRepair(text: string): string | null {
  const code = stripFences(text);
  return code === '' ? null : code;
}
