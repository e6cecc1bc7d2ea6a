import { prng } from '../helpers/prng.js';
/**
 * A fixed retrieval corpus for the memory engine: about 2,000 facts about a fictional company
 * (services, people, teams, codenames, rules, notes) and 100 questions, each with the ids of the
 * facts that answer it. Everything is generated from a seeded PRNG, so the corpus is the same on
 * every run. The questions are written as a person would ask them, not as the facts are phrased:
 * they share the entity name and at most one content word with their answer.
 *
 * Question groups:
 * - direct (50): one attribute of one service or person, paraphrased;
 * - superseded (15): the attribute changed; only the newer fact counts as relevant;
 * - codename (20): the service is named by its codename, which only another fact connects to it
 *   (a two-hop question: lexical search alone finds the codename fact, not the answer);
 * - team (15): the chat channel or the lead of the team that owns a service (two hops again).
 */

export interface CorpusFact {
  id: string;
  subject: string;
  body: string;
  kind?: 'pattern' | 'constraint';
}

export interface CorpusQuestion {
  id: string;
  group: 'direct' | 'superseded' | 'codename' | 'team';
  question: string;
  relevant: string[];
}

export interface Corpus {
  facts: CorpusFact[];
  questions: CorpusQuestion[];
}

const CONSONANTS = 'bdfgklmnprtvz';
const VOWELS = 'aeiou';

export function buildCorpus(seed = 20260521): Corpus {
  const rnd = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const used = new Set<string>();
  const word = (syllables: number): string => {
    for (;;) {
      let w = '';
      for (let i = 0; i < syllables; i++) w += pick([...CONSONANTS]) + pick([...VOWELS]);
      w += pick([...'lnrx']);
      if (!used.has(w)) {
        used.add(w);
        return w;
      }
    }
  };
  const cap = (w: string): string => w[0]!.toUpperCase() + w.slice(1);

  const languages = ['Go', 'Rust', 'Java', 'Python', 'TypeScript', 'Kotlin', 'Elixir', 'Scala', 'C#', 'Ruby'];
  const databases = ['PostgreSQL', 'MySQL', 'Cassandra', 'Redis', 'DynamoDB', 'MongoDB', 'SQLite', 'CockroachDB'];
  const regions = ['us-east-1', 'us-west-2', 'eu-west-1', 'eu-central-1', 'ap-south-1', 'ap-northeast-1', 'sa-east-1'];
  const zones = ['UTC', 'CET', 'PST', 'EST', 'IST', 'JST', 'AEST', 'BRT'];

  const facts: CorpusFact[] = [];
  const questions: CorpusQuestion[] = [];
  let n = 0;
  const fact = (subject: string, body: string, kind?: 'constraint'): string => {
    const id = `f${++n}`;
    facts.push(kind ? { id, subject, body, kind } : { id, subject, body });
    return id;
  };

  const teams = Array.from({ length: 40 }, () => {
    const name = word(2);
    const lead = `${cap(word(2))} ${cap(word(3))}`;
    const channel = `#${word(2)}-chat`;
    return { name, lead, channel, ids: {} as Record<string, string> };
  });
  for (const t of teams) {
    t.ids.lead = fact(`${t.name} team lead`, `${t.lead} leads the ${t.name} team`);
    t.ids.channel = fact(`${t.name} team channel`, `The ${t.name} team talks in the ${t.channel} Slack channel`);
    t.ids.size = fact(`${t.name} team size`, `The ${t.name} team has ${2 + Math.floor(rnd() * 12)} engineers`);
    t.ids.standup = fact(`${t.name} team standup`, `The ${t.name} team holds standup at ${8 + Math.floor(rnd() * 4)}:30`);
  }

  interface Service {
    name: string;
    team: (typeof teams)[number];
    codename: string;
    ids: Record<string, string>;
    values: Record<string, string>;
  }
  const services: Service[] = Array.from({ length: 120 }, () => ({
    name: word(3),
    team: pick(teams),
    codename: cap(word(2)),
    ids: {},
    values: {},
  }));
  for (const s of services) {
    const port = String(1024 + Math.floor(rnd() * 60000));
    const v = {
      port,
      language: pick(languages),
      database: pick(databases),
      region: pick(regions),
      oncall: `${cap(word(2))} ${cap(word(3))}`,
      sla: `${pick(['99.9', '99.95', '99.99', '99.5'])}%`,
      repo: `git.example.com/${s.team.name}/${s.name}`,
    };
    s.values = v;
    s.ids.port = fact(`${s.name} port`, `The ${s.name} service listens on port ${v.port}`);
    s.ids.language = fact(`${s.name} language`, `${s.name} is written in ${v.language}`);
    s.ids.database = fact(`${s.name} database`, `${s.name} keeps its records in ${v.database}`);
    s.ids.region = fact(`${s.name} region`, `${s.name} is deployed to the ${v.region} region`);
    s.ids.owner = fact(`${s.name} owner`, `${s.name} is owned by the ${s.team.name} team`);
    s.ids.oncall = fact(`${s.name} on-call`, `Page ${v.oncall} when ${s.name} has an incident`);
    s.ids.sla = fact(`${s.name} SLA`, `${s.name} promises ${v.sla} availability`);
    s.ids.repo = fact(`${s.name} repository`, `The source of ${s.name} lives at ${v.repo}`);
    s.ids.codename = fact(`Project ${s.codename}`, `Project ${s.codename} is the internal codename of the ${s.name} service`);
  }

  const people = Array.from({ length: 110 }, () => {
    const first = cap(word(2));
    const last = cap(word(3));
    return { first, last, team: pick(teams), ids: {} as Record<string, string> };
  });
  for (const p of people) {
    const full = `${p.first} ${p.last}`;
    p.ids.email = fact(`${full} email`, `${full} can be reached at ${p.first.toLowerCase()}.${p.last.toLowerCase()}@example.com`);
    p.ids.timezone = fact(`${full} timezone`, `${full} works from the ${pick(zones)} time zone`);
    p.ids.team = fact(`${full} team`, `${full} is a member of the ${p.team.name} team`);
  }

  // Supersession: 15 services change region or database later; the old fact stays in the graph.
  const changed = services.slice(0, 15).map((s, i) => {
    const attr = i % 2 === 0 ? 'region' : 'database';
    const value = attr === 'region' ? pick(regions.filter((r) => r !== s.values.region)) : pick(databases.filter((d) => d !== s.values.database));
    const id =
      attr === 'region'
        ? fact(`${s.name} region`, `${s.name} was migrated and now runs in ${value}`)
        : fact(`${s.name} database`, `${s.name} moved its records to ${value}`);
    return { s, attr, id };
  });

  // Rules and notes pad the corpus to 2,000 facts and share vocabulary with the questions.
  const ruleTopics = ['port', 'region', 'database', 'deploy', 'incident', 'team', 'service', 'email', 'repository', 'availability'];
  let r = 0;
  while (facts.length < 2000) {
    const topic = pick(ruleTopics);
    const other = pick(ruleTopics);
    if (r % 3 === 0) {
      fact(`rule ${++r}`, `Every ${topic} change must be reviewed by a second engineer before the ${other} is touched`, 'constraint');
    } else {
      fact(`note ${++r}`, `Reminder about ${topic}: check the ${other} dashboard after each ${pick(['release', 'rollback', 'migration'])}`);
    }
  }

  const direct: [string, (s: Service) => string][] = [
    ['port', (s) => `Which port does ${s.name} use?`],
    ['language', (s) => `What programming language is ${s.name} built with?`],
    ['database', (s) => `Which database backs ${s.name}?`],
    ['region', (s) => `Where is ${s.name} running, which region?`],
    ['oncall', (s) => `Who do I page for a ${s.name} incident?`],
    ['sla', (s) => `What availability does ${s.name} guarantee?`],
    ['repo', (s) => `Where can I find the ${s.name} repository?`],
  ];
  let q = 0;
  const question = (group: CorpusQuestion['group'], text: string, relevant: string[]): void => {
    questions.push({ id: `q${++q}`, group, question: text, relevant });
  };
  for (let i = 0; i < 40; i++) {
    const s = services[15 + i]!;
    const [attr, ask] = direct[i % direct.length]!;
    question('direct', ask(s), [s.ids[attr]!]);
  }
  for (let i = 0; i < 10; i++) {
    const p = people[i]!;
    const full = `${p.first} ${p.last}`;
    if (i % 2 === 0) question('direct', `What is the email address of ${full}?`, [p.ids.email!]);
    else question('direct', `Which time zone is ${full} in?`, [p.ids.timezone!]);
  }
  for (const { s, attr, id } of changed) {
    question('superseded', attr === 'region' ? `Which region is ${s.name} in now?` : `Which database does ${s.name} use today?`, [id]);
  }
  for (let i = 0; i < 20; i++) {
    const s = services[60 + i]!;
    const [attr, ask] = i % 2 === 0 ? ['port', `Which port does project ${s.codename} listen on?`] : ['language', `What language is project ${s.codename} written in?`];
    question('codename', ask, [s.ids[attr]!]);
  }
  for (let i = 0; i < 15; i++) {
    const s = services[85 + i]!;
    if (i % 2 === 0) question('team', `In which Slack channel should I ask about ${s.name}?`, [s.team.ids.channel!]);
    else question('team', `Who leads the team behind ${s.name}?`, [s.team.ids.lead!]);
  }
  return { facts, questions };
}

export interface Quality {
  recallAt5: number;
  mrr: number;
  byGroup: Record<string, { recallAt5: number; mrr: number; n: number }>;
}

/** Recall@5 (share of questions with a relevant fact in the top 5) and MRR (top 10), overall and per group. */
export function score(questions: CorpusQuestion[], rank: (q: CorpusQuestion) => string[]): Quality {
  const groups: Record<string, { hit: number; rr: number; n: number }> = {};
  let hit = 0;
  let rr = 0;
  for (const q of questions) {
    const ranked = rank(q).slice(0, 10);
    const first = ranked.findIndex((id) => q.relevant.includes(id));
    const g = (groups[q.group] ??= { hit: 0, rr: 0, n: 0 });
    g.n++;
    if (first >= 0 && first < 5) {
      hit++;
      g.hit++;
    }
    if (first >= 0) {
      rr += 1 / (first + 1);
      g.rr += 1 / (first + 1);
    }
  }
  const byGroup: Quality['byGroup'] = {};
  for (const [name, g] of Object.entries(groups)) byGroup[name] = { recallAt5: g.hit / g.n, mrr: g.rr / g.n, n: g.n };
  return { recallAt5: hit / questions.length, mrr: rr / questions.length, byGroup };
}
