/**
 * Text analysis shared by the lexical index, the term graph and skill matching: one definition of
 * a "term" so that what is indexed is what is searched.
 */

const STOPWORDS = new Set(
  (
    'a an and are as at be been being but by can could did do does doing for from had has have having he her ' +
    'here hers him his how i if in into is it its itself just me might more most must my no nor not of off on ' +
    'once only or other our ours out over own same shall she should so some such than that the their theirs ' +
    'them then there these they this those through to too under until up very was we were what when where ' +
    'which while who whom why will with would you your yours about again all also any because before below ' +
    'between both during each few further let lets get got us use used uses using tell know please ' +
    'anyone someone anybody somebody currently today now actually exactly really also still whose ' +
    'ok okay hey hi thanks thank remind reminder recall remember look looking find need want'
  ).split(' '),
);

/**
 * Abbreviations and common synonyms, each mapped to one canonical term (after stemming), so that
 * "db" meets "database" and "boss" meets "manager" whichever side uses which.
 */
const SYNONYMS: ReadonlyMap<string, string> = new Map(
  Object.entries({
    db: 'database', dbs: 'database', datastore: 'database', rdbms: 'database',
    repo: 'repository', repos: 'repository', git: 'repository',
    k8s: 'kubernetes', kube: 'kubernetes',
    env: 'environment', envs: 'environment',
    config: 'configuration', cfg: 'configuration', conf: 'configuration',
    auth: 'authentication', authn: 'authentication',
    prod: 'production', staging: 'stage',
    boss: 'manager', supervisor: 'manager', mgr: 'manager', manag: 'manager', manage: 'manager',
    led: 'lead', leader: 'lead', owner: 'owner', owns: 'owner', own: 'owner', owned: 'owner',
    tel: 'phone', telephone: 'phone', cell: 'phone', mobile: 'phone',
    mail: 'email',
    hq: 'headquarters',
    tz: 'zone', timezone: 'zone',
    js: 'javascript', ts: 'typescript', py: 'python', golang: 'go',
    postgres: 'postgresql', pg: 'postgresql', psql: 'postgresql', mongo: 'mongodb',
    dept: 'department', org: 'organization', eng: 'engineering', engineer: 'engineering',
    app: 'application', svc: 'service',
    doc: 'documentation', docs: 'documentation',
    addr: 'address', ext: 'extension',
    due: 'deadline', ship: 'release', launch: 'release', launches: 'release', ga: 'release',
    wifi: 'wireless', wlan: 'wireless',
    colleague: 'coworker', teammate: 'coworker',
    start: 'join', hir: 'join', hire: 'join',
  }),
);

const WORD = /[\p{L}\p{N}]+/gu;

/** Light suffix stripping so that plurals and common verb forms meet their stem. */
export function stem(word: string): string {
  let w = word;
  if (w.length > 4 && w.endsWith('ies')) return `${w.slice(0, -3)}y`;
  if (w.length > 4 && w.endsWith('sses')) return w.slice(0, -2);
  if (w.length > 5 && w.endsWith('ing')) {
    w = w.slice(0, -3);
    return undouble(w);
  }
  if (w.length > 4 && w.endsWith('ed') && !w.endsWith('eed')) {
    w = w.slice(0, -2);
    return undouble(w);
  }
  if (w.length > 3 && w.endsWith('s') && !/(ss|us|is|ys)$/.test(w)) return w.slice(0, -1);
  return w;
}

function undouble(w: string): string {
  const n = w.length;
  if (n > 3 && w[n - 1] === w[n - 2] && !/[lsz]/.test(w[n - 1]!)) return w.slice(0, -1);
  return w;
}

/** Raw lowercase words (snake_case, kebab-case and dotted names split into parts). */
export function words(text: string): string[] {
  return text.toLowerCase().match(WORD) ?? [];
}

/** Index/search terms: lowercase, stopwords dropped, stemmed. Order kept, duplicates kept. */
export function terms(text: string): string[] {
  const out: string[] = [];
  for (const w of words(text)) {
    if (STOPWORDS.has(w)) continue;
    if (w.length === 1 && !/\d/.test(w)) continue;
    const t = stem(w);
    out.push(SYNONYMS.get(t) ?? SYNONYMS.get(w) ?? t);
  }
  return out;
}

/** Distinct terms of a text. */
export function termSet(text: string): Set<string> {
  return new Set(terms(text));
}

/** How subjects are compared for supersession and grouping: case, spacing and separators ignored. */
export function normalizeSubject(subject: string): string {
  return words(subject).join(' ');
}

/** Rough token count for context budgets (about four characters per token). */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}
