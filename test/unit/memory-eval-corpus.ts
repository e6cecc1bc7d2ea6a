import { prng } from '../helpers/prng.js';
/**
 * A retrieval benchmark written the way people store memories, not the way the engine likes them:
 * about 2,000 facts about a fictional company, several per person, project, office and system,
 * each with the entity's plain name as its subject and a body phrased in one of several styles
 * ("Manager: X", "Reports to X", "Her manager is X"). Some attributes change later (a new manager,
 * a moved office, a slipped launch): only the newest value answers a question about it.
 *
 * Questions paraphrase, use synonyms and abbreviations ("boss", "db", "e-mail"), or need two hops
 * (the database of the project a person leads). Every question family has phrasings used only in
 * the `check` split, and the two splits ask about different entities: the engine is tuned on
 * `dev` only. Everything comes from a seeded generator, so the data is the same on every run.
 */

export interface EvalFact {
  id: string;
  subject: string;
  body: string;
}

export type EvalGroup = 'direct' | 'synonym' | 'two_hop' | 'updated';

export interface EvalQuestion {
  id: string;
  split: 'dev' | 'check';
  group: EvalGroup;
  question: string;
  relevant: string[];
}

export interface EvalCorpus {
  facts: EvalFact[];
  questions: EvalQuestion[];
}

const FIRST = (
  'Priya Dana Tomas Aiko Kwame Lena Marco Sofia Ravi Elena Yusuf Hana Diego Ingrid Omar Mei Lucas Amara Felix Nadia ' +
  'Jonas Leila Mateo Greta Samir Chloe Viktor Anya Kofi Isla Pedro Freya Arjun Zara Emil Noor Hugo Talia Idris Rosa ' +
  'Anders Maya Bruno Selin Kenji Alma Rafael Mira Oskar Lucia'
).split(' ');
const LAST = (
  'Raman Okafor Novak Tanaka Mensah Fischer Rossi Costa Iyer Petrova Demir Sato Alvarez Berg Haddad Chen Moreau Obi ' +
  'Weber Karimi Lindqvist Farah Ortiz Nilsen Aziz Laurent Volkov Ivanova Boateng Murray Silva Dahl Mehta Hussain Kowalski ' +
  'Rahman Duval Cohen Bello Navarro Strand Kim Ferreira Yilmaz Mori Ruiz Andersen Wong Kaur Schultz'
).split(' ');
const CITIES = ['Lisbon', 'Berlin', 'Toronto', 'Austin', 'Nairobi', 'Singapore', 'Sydney', 'Dublin', 'Warsaw', 'Osaka', 'Bogota', 'Oslo', 'Denver', 'Seoul'];
const STREETS = ['Rua Augusta', 'Friedrichstrasse', 'King Street West', 'Congress Avenue', 'Kenyatta Avenue', 'Orchard Road', 'George Street', 'Grafton Street', 'Marszalkowska', 'Midosuji', 'Carrera Septima', 'Karl Johans gate', 'Larimer Street', 'Teheran-ro'];
const CODENAMES = (
  'Falcon Heron Juniper Cobalt Meridian Aurora Basalt Cinder Dune Ember Fjord Glacier Harbor Indigo Jasper Kestrel ' +
  'Lantern Magnolia Nimbus Onyx Pioneer Quartz Raven Sable Tundra Umber Vesper Willow Yarrow Zephyr Atlas Beacon ' +
  'Canyon Delta Echo Flint Granite Horizon Iris Jade Kelp Lotus Mosaic Nova Orbit Prism Quill Ridge Summit Talon ' +
  'Upland Vortex Wren Alder Birch Cedar Drift Estuary Fern Grove Hollow Inlet Jetty Knoll Ledge Maple Nectar Orchid Pinnacle Sequoia'
).split(' ');
const TITLES = ['staff engineer', 'product manager', 'data scientist', 'site reliability engineer', 'designer', 'engineering manager', 'security analyst', 'technical writer', 'solutions architect', 'QA lead'];
const SKILLS = ['Kubernetes and Terraform', 'Rust and gRPC', 'React and TypeScript', 'Kafka and Flink', 'PyTorch and CUDA', 'Postgres query tuning', 'threat modelling', 'Figma and user research', 'Go and distributed tracing', 'Swift and iOS'];
const HOBBIES = ['Runs marathons on weekends', 'Plays cello in a community orchestra', 'Keeps bees on a rooftop', 'Climbs at the bouldering gym', 'Bakes sourdough every Sunday', 'Collects vinyl records', 'Sails small boats in summer', 'Volunteers at a coding club for kids'];
const LANGS = ['Portuguese and French', 'German and Turkish', 'Japanese and Korean', 'Spanish and Italian', 'Swahili and Arabic', 'Hindi and Tamil', 'Polish and Russian', 'Norwegian and Dutch'];
const DATABASES: [string, string][] = [
  ['PostgreSQL 16', 'Postgres 16'],
  ['MySQL 8', 'MySQL 8'],
  ['CockroachDB', 'CockroachDB'],
  ['MongoDB 7', 'Mongo 7'],
  ['DynamoDB', 'DynamoDB'],
  ['Cassandra 4', 'Cassandra 4'],
  ['SQLite', 'SQLite'],
  ['Redis', 'Redis'],
];
const LANGUAGES = ['Go', 'Rust', 'Kotlin', 'Python', 'TypeScript', 'Java', 'Elixir', 'Scala'];
const REGIONS = ['eu-west-1', 'us-east-1', 'us-west-2', 'ap-southeast-1', 'eu-central-1', 'ca-central-1'];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const CUSTOMERS = ['Northwind', 'Contoso', 'Globex', 'Initech', 'Umbrella Health', 'Stark Logistics', 'Wayne Retail', 'Tyrell Energy'];
const SYSTEM_NOUNS = ['Ledger API', 'Search Indexer', 'Payments Gateway', 'Notification Hub', 'Identity Service', 'Billing Worker', 'Report Builder', 'Media Transcoder', 'Feature Flags', 'Audit Trail', 'Inventory Sync', 'Pricing Engine', 'Chat Relay', 'Geo Lookup', 'Fraud Scorer', 'Export Service', 'Email Sender', 'Session Store', 'Recommendation API', 'Image Resizer'];

export function buildEvalCorpus(seed = 20261202): EvalCorpus {
  const rnd = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const facts: EvalFact[] = [];
  let n = 0;
  const fact = (subject: string, body: string): string => {
    const id = `e${++n}`;
    facts.push({ id, subject, body });
    return id;
  };

  // People: 120 distinct names.
  const names: string[] = [];
  for (let i = 0; names.length < 120; i++) {
    const name = `${FIRST[i % FIRST.length]} ${LAST[(i * 7 + Math.floor(i / FIRST.length)) % LAST.length]}`;
    if (!names.includes(name)) names.push(name);
  }
  interface Person {
    name: string;
    first: string;
    pronoun: 'Her' | 'His';
    office: string;
    ids: Record<string, string>;
    manager: string;
  }
  const people: Person[] = names.map((name, i) => ({
    name,
    first: name.split(' ')[0]!,
    pronoun: i % 2 === 0 ? 'Her' : 'His',
    office: CITIES[i % CITIES.length]!,
    ids: {},
    manager: '',
  }));
  const offices = CITIES.map((city, i) => ({ city, ids: {} as Record<string, string>, street: STREETS[i]! }));
  const projects = CODENAMES.slice(0, 70).map((code, i) => ({
    code,
    lead: people[(i * 13) % people.length]!,
    db: DATABASES[i % DATABASES.length]!,
    ids: {} as Record<string, string>,
  }));

  for (const p of people) {
    const style = Math.floor(rnd() * 3);
    const email = `${p.name.toLowerCase().replace(' ', '.')}@acme.io`;
    p.manager = pick(people.filter((q) => q !== p)).name;
    const title = pick(TITLES);
    p.ids.title = fact(p.name, [`Title: ${title}`, `Works as a ${title}`, `${p.first} is a ${title}`][style]!);
    p.ids.manager = fact(p.name, [`Manager: ${p.manager}`, `Reports to ${p.manager}`, `${p.pronoun} manager is ${p.manager}`][style]!);
    p.ids.office = fact(p.name, [`Works from the ${p.office} office`, `Based in the ${p.office} office`, `Office: ${p.office}`][style]!);
    p.ids.email = fact(p.name, [`Email: ${email}`, `Reach ${p.pronoun === 'Her' ? 'her' : 'him'} at ${email}`, `E-mail address is ${email}`][style]!);
    const ext = 4000 + Math.floor(rnd() * 5000);
    p.ids.phone = fact(p.name, [`Phone extension ${ext}`, `Desk phone: ext. ${ext}`, `Call on extension ${ext}`][style]!);
    const year = 2012 + Math.floor(rnd() * 13);
    const month = pick(MONTHS);
    p.ids.joined = fact(p.name, [`Joined Acme in ${month} ${year}`, `Start date: ${month} ${year}`, `Has been with the company since ${month} ${year}`][style]!);
    p.ids.skills = fact(p.name, [`Expert in ${pick(SKILLS)}`, `Knows ${pick(SKILLS)} well`, `Go-to person for ${pick(SKILLS)}`][style]!);
    p.ids.personal = fact(p.name, rnd() < 0.5 ? pick(HOBBIES) : `Speaks ${pick(LANGS)}`);
  }

  for (const pr of projects) {
    const subject = `Project ${pr.code}`;
    const style = Math.floor(rnd() * 3);
    pr.ids.lead = fact(subject, [`Lead: ${pr.lead.name}`, `Led by ${pr.lead.name}`, `${pr.lead.name} leads the project`][style]!);
    pr.ids.db = fact(subject, [`Database: ${pr.db[0]}`, `db: ${pr.db[1]}`, `Stores its data in ${pr.db[0]}`][style]!);
    const lang = pick(LANGUAGES);
    pr.ids.language = fact(subject, [`Language: ${lang}`, `Written in ${lang}`, `The codebase is mostly ${lang}`][style]!);
    const day = 1 + Math.floor(rnd() * 28);
    const month = pick(MONTHS);
    pr.ids.launch = fact(subject, [`Launch date: ${month} ${day}, 2027`, `Ships on ${month} ${day}, 2027`, `Release planned for ${month} 2027`][style]!);
    const slug = pr.code.toLowerCase();
    pr.ids.repo = fact(subject, [`Repository: git.acme.io/${slug}`, `Code lives at git.acme.io/${slug}`, `Source is on git.acme.io/${slug}`][style]!);
    pr.ids.budget = fact(subject, [`Budget: $${1 + Math.floor(rnd() * 9)}.${Math.floor(rnd() * 10)}M for 2027`, `Funded with $${1 + Math.floor(rnd() * 9)}M this year`, `Spending cap is $${1 + Math.floor(rnd() * 9)}M`][style]!);
    pr.ids.customer = fact(subject, [`Customer: ${pick(CUSTOMERS)}`, `Built for ${pick(CUSTOMERS)}`, `The main client is ${pick(CUSTOMERS)}`][style]!);
    pr.ids.region = fact(subject, [`Region: ${pick(REGIONS)}`, `Runs in ${pick(REGIONS)}`, `Deployed to the ${pick(REGIONS)} region`][style]!);
    pr.ids.status = fact(subject, [`Status: ${pick(['in beta', 'in discovery', 'live', 'paused'])}`, `Currently ${pick(['in beta', 'in discovery', 'live', 'paused'])}`, `Stage: ${pick(['alpha', 'beta', 'general availability'])}`][style]!);
  }

  for (const o of offices) {
    const subject = `${o.city} office`;
    const mgr = pick(people).name;
    o.ids.address = fact(subject, `Address: ${10 + Math.floor(rnd() * 180)} ${o.street}, ${o.city}`);
    o.ids.phone = fact(subject, `Front desk phone: +${10 + Math.floor(rnd() * 80)} ${100 + Math.floor(rnd() * 900)} ${1000 + Math.floor(rnd() * 9000)}`);
    o.ids.manager = fact(subject, `Office manager: ${mgr}`);
    o.ids.desks = fact(subject, `Has ${40 + Math.floor(rnd() * 300)} desks on ${1 + Math.floor(rnd() * 4)} floors`);
    o.ids.wifi = fact(subject, `Guest Wi-Fi network is acme-guest-${o.city.toLowerCase().slice(0, 3)}`);
    o.ids.hours = fact(subject, `Open from ${7 + Math.floor(rnd() * 2)}:00 to ${18 + Math.floor(rnd() * 3)}:00 on weekdays`);
    o.ids.parking = fact(subject, rnd() < 0.5 ? 'Bike parking in the basement, no car spaces' : `Visitor parking on level P${1 + Math.floor(rnd() * 3)}`);
  }

  const systems = SYSTEM_NOUNS.flatMap((noun, i) => [noun, `${noun} v2`].map((name, j) => ({ name, project: projects[(i * 2 + j) % projects.length]!, ids: {} as Record<string, string> })));
  for (const s of systems) {
    const style = Math.floor(rnd() * 2);
    s.ids.port = fact(s.name, [`Port: ${2000 + Math.floor(rnd() * 7000)}`, `Listens on port ${2000 + Math.floor(rnd() * 7000)}`][style]!);
    s.ids.owner = fact(s.name, [`Owned by Project ${s.project.code}`, `Part of Project ${s.project.code}`][style]!);
    s.ids.oncall = fact(s.name, `Pages go to #${s.name.toLowerCase().replace(/ /g, '-')}-oncall`);
    s.ids.host = fact(s.name, `Host: ${s.name.toLowerCase().replace(/ /g, '-')}.internal.acme.io`);
    s.ids.dashboard = fact(s.name, `Grafana dashboard at grafana.acme.io/d/${s.name.toLowerCase().replace(/ /g, '')}`);
    s.ids.runbook = fact(s.name, `Runbook: wiki.acme.io/runbooks/${s.name.toLowerCase().replace(/ /g, '-')}`);
    s.ids.alerts = fact(s.name, `Alerts when p99 latency exceeds ${100 + Math.floor(rnd() * 400)} ms`);
  }

  // Updates: a new manager, a moved office, a slipped launch. The old fact stays stored.
  const updated = { manager: [] as Person[], office: [] as Person[], launch: [] as (typeof projects)[number][] };
  for (let i = 0; i < 20; i++) {
    const p = people[100 + i]!;
    const next = pick(people.filter((q) => q !== p && q.name !== p.manager)).name;
    p.manager = next;
    p.ids.manager = fact(p.name, i % 2 === 0 ? `Manager: ${next}` : `Now reports to ${next}`);
    updated.manager.push(p);
  }
  for (let i = 0; i < 10; i++) {
    const p = people[90 + i]!;
    p.office = pick(CITIES.filter((c) => c !== p.office));
    p.ids.office = fact(p.name, `Moved to the ${p.office} office`);
    updated.office.push(p);
  }
  for (let i = 0; i < 10; i++) {
    const pr = projects[60 + i]!;
    pr.ids.launch = fact(`Project ${pr.code}`, `Launch date: ${pick(MONTHS)} ${1 + Math.floor(rnd() * 28)}, 2028`);
    updated.launch.push(pr);
  }

  // Questions. Each family: [dev phrasings, check phrasings].
  const questions: EvalQuestion[] = [];
  let q = 0;
  const ask = (split: 'dev' | 'check', group: EvalGroup, question: string, relevant: string): void => {
    questions.push({ id: `${split}-${++q}`, split, group, question, relevant: [relevant] });
  };
  const families: { group: EvalGroup; forms: [((p: Person) => string)[], ((p: Person) => string)[]]; attr: string }[] = [
    { group: 'synonym', attr: 'manager', forms: [[(p) => `Who is ${p.name}'s boss?`], [(p) => `Who supervises ${p.name}?`]] },
    { group: 'direct', attr: 'email', forms: [[(p) => `What's the email address of ${p.name}?`], [(p) => `How do I e-mail ${p.name}?`]] },
    { group: 'direct', attr: 'phone', forms: [[(p) => `Which phone extension does ${p.name} have?`], [(p) => `What number do I dial to phone ${p.name}?`]] },
    { group: 'synonym', attr: 'joined', forms: [[(p) => `When did ${p.name} start at the company?`], [(p) => `When was ${p.name} hired?`]] },
    { group: 'direct', attr: 'office', forms: [[(p) => `Which office does ${p.name} work from?`], [(p) => `In which city office is ${p.name}?`]] },
    { group: 'direct', attr: 'title', forms: [[(p) => `What is ${p.name}'s job title?`], [(p) => `What does ${p.name} work as?`]] },
  ];
  families.forEach((f, fi) => {
    for (const split of [0, 1] as const) {
      for (let k = 0; k < 4; k++) {
        const p = people[(fi * 11 + k * 3 + split * 37) % 90]!;
        const form = f.forms[split][k % f.forms[split].length]!;
        ask(split === 0 ? 'dev' : 'check', f.group, form(p), p.ids[f.attr]!);
      }
    }
  });
  const projectFamilies: { group: EvalGroup; attr: string; forms: [((c: string) => string)[], ((c: string) => string)[]] }[] = [
    { group: 'synonym', attr: 'db', forms: [[(c) => `Which db does ${c} use?`], [(c) => `What database is ${c} built on?`]] },
    { group: 'direct', attr: 'lead', forms: [[(c) => `Who leads Project ${c}?`], [(c) => `Who is the lead of ${c}?`]] },
    { group: 'synonym', attr: 'launch', forms: [[(c) => `When does ${c} ship?`], [(c) => `What is the launch date of Project ${c}?`]] },
    { group: 'direct', attr: 'repo', forms: [[(c) => `Where is the ${c} repo?`], [(c) => `Which git repository holds the ${c} code?`]] },
    { group: 'direct', attr: 'language', forms: [[(c) => `Which programming language is ${c} written in?`], [(c) => `What language does the ${c} codebase use?`]] },
  ];
  projectFamilies.forEach((f, fi) => {
    for (const split of [0, 1] as const) {
      for (let k = 0; k < 4; k++) {
        const pr = projects[(fi * 7 + k * 5 + split * 29) % 60]!;
        ask(split === 0 ? 'dev' : 'check', f.group, f.forms[split][0]!(pr.code), pr.ids[f.attr]!);
      }
    }
  });
  const officeFamilies: { attr: string; forms: [(c: string) => string, (c: string) => string] }[] = [
    { attr: 'address', forms: [(c) => `What's the street address of the ${c} office?`, (c) => `Where exactly is our ${c} office?`] },
    { attr: 'phone', forms: [(c) => `What is the front desk phone number in ${c}?`, (c) => `How do I call the ${c} office?`] },
    { attr: 'manager', forms: [(c) => `Who manages the ${c} office?`, (c) => `Who is the office manager in ${c}?`] },
    { attr: 'wifi', forms: [(c) => `What is the guest wifi in the ${c} office?`, (c) => `Which Wi-Fi network can visitors use in ${c}?`] },
  ];
  officeFamilies.forEach((f, fi) => {
    for (const split of [0, 1] as const) {
      for (let k = 0; k < 2; k++) {
        const o = offices[(fi * 3 + k * 5 + split * 7) % offices.length]!;
        ask(split === 0 ? 'dev' : 'check', 'direct', f.forms[split](o.city), o.ids[f.attr]!);
      }
    }
  });

  // Two hops: the answer's fact shares nothing with the question but what another fact connects.
  for (const split of [0, 1] as const) {
    for (let k = 0; k < 4; k++) {
      const pr = projects[(k * 9 + split * 31) % 60]!;
      ask(
        split === 0 ? 'dev' : 'check',
        'two_hop',
        split === 0 ? `Which database does the project led by ${pr.lead.name} use?` : `What database backs the project ${pr.lead.name} is leading?`,
        pr.ids.db!,
      );
    }
    for (let k = 0; k < 3; k++) {
      const p = people[(k * 17 + split * 41) % 90]!;
      const o = offices.find((x) => x.city === p.office)!;
      ask(
        split === 0 ? 'dev' : 'check',
        'two_hop',
        split === 0 ? `What is the front desk phone of the office ${p.name} works from?` : `Which number reaches the reception of ${p.name}'s office?`,
        o.ids.phone!,
      );
    }
    for (let k = 0; k < 3; k++) {
      const s = systems[(k * 7 + split * 13) % systems.length]!;
      ask(
        split === 0 ? 'dev' : 'check',
        'two_hop',
        split === 0 ? `Who leads the project that owns the ${s.name}?` : `Who is in charge of the project the ${s.name} belongs to?`,
        s.project.ids.lead!,
      );
    }
  }

  // Updated values: only the newest fact answers.
  updated.manager.slice(0, 8).forEach((p, i) =>
    ask(i % 2 === 0 ? 'dev' : 'check', 'updated', i % 4 < 2 ? `Who is ${p.name}'s manager now?` : `Who does ${p.name} report to these days?`, p.ids.manager!),
  );
  updated.office.slice(0, 6).forEach((p, i) =>
    ask(i % 2 === 0 ? 'dev' : 'check', 'updated', i % 4 < 2 ? `Which office is ${p.name} in now?` : `Where does ${p.name} work from since the move?`, p.ids.office!),
  );
  updated.launch.slice(0, 6).forEach((pr, i) =>
    ask(i % 2 === 0 ? 'dev' : 'check', 'updated', i % 4 < 2 ? `What is the current launch date of ${pr.code}?` : `When will Project ${pr.code} launch after the delay?`, pr.ids.launch!),
  );
  return { facts, questions };
}
