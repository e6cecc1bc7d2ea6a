import { rollbackContract, type Action, type Reversibility } from '../ir.js';
import { TIERS, compareTiers, type Tier } from './tiers.js';

/**
 * The permission classifier: a keyword heuristic over an action's tool name and parameters that
 * says which tier may authorize it. It never calls a tool and never sees state.
 *
 * An action's required tier is the highest of:
 * - its type: state_read / assertion → read_only, state_write → sandbox_edit;
 * - for a tool_call, the tool-name segments (the name split on `.`, `_`, `-`, `/`, spaces and
 *   camelCase): the most powerful matching list below wins; a name matching no list needs
 *   sandbox_edit (the tool may change something, and nothing says it is dangerous);
 * - command words in the `command`, `cmd`, `script`, `args`, `argv` and `flags` parameters;
 * - parameter keys that name credentials, at any depth;
 * - sensitive paths and destructive phrases anywhere in string parameter values.
 *
 * Shell-like tool names (`shell`, `exec`, `bash`, `run`, `command`, …) are sandbox_edit by name,
 * not full_access: what they do is decided by their command, which is scanned, so `shell {command:
 * "echo hi"}` runs at the default tier while `shell {command: "rm -rf /tmp/x"}` needs a human.
 */

/** Segments of tools that only look. */
export const READ_SEGMENTS: readonly string[] = [
  'read', 'get', 'list', 'ls', 'search', 'query', 'find', 'fetch', 'status', 'show', 'view', 'cat',
  'head', 'tail', 'grep', 'glob', 'lookup', 'describe', 'inspect', 'stat', 'info', 'peek', 'count',
  'exists', 'diff', 'log', 'logs', 'browse', 'open', 'preview', 'dir', 'tree', 'ping',
];

/** Segments of tools that change local, recoverable things. */
export const WRITE_SEGMENTS: readonly string[] = [
  'write', 'edit', 'create', 'update', 'patch', 'move', 'mv', 'rename', 'mkdir', 'save', 'append',
  'copy', 'cp', 'set', 'put', 'insert', 'add', 'replace', 'touch', 'upsert', 'modify', 'apply',
  'commit', 'download', 'clone',
  // Shell-likes: their command is scanned separately (see above).
  'shell', 'exec', 'execute', 'bash', 'sh', 'zsh', 'run', 'command', 'cmd', 'terminal', 'script',
];

/** Segments of tools whose effect is destructive, external or hard to undo. */
export const FULL_SEGMENTS: readonly string[] = [
  'delete', 'del', 'remove', 'rm', 'rmdir', 'unlink', 'destroy', 'purge', 'truncate', 'wipe',
  'erase', 'drop', 'kill', 'terminate', 'deploy', 'push', 'publish', 'send', 'email',
  'mail', 'sms', 'tweet', 'sudo', 'install', 'uninstall', 'payment', 'pay', 'transfer', 'charge',
  'refund', 'withdraw', 'shutdown', 'reboot', 'chmod', 'chown', 'reset', 'revoke', 'grant', 'force',
];

/**
 * Segments of tools that reach secrets: full_access even to read (`read_secret`), though such a
 * read leaves nothing to undo, so they do not count against reversibility.
 */
export const SECRET_SEGMENTS: readonly string[] = [
  'secret', 'secrets', 'credential', 'credentials', 'password', 'passwords', 'passwd', 'keychain',
];

/** Programs that need full_access when they appear as a command word. */
export const DANGEROUS_COMMANDS: readonly string[] = [
  'rm', 'rmdir', 'shred', 'unlink', 'sudo', 'su', 'doas', 'chmod', 'chown', 'chgrp', 'dd', 'mkfs',
  'fdisk', 'parted', 'wipefs', 'mount', 'umount', 'shutdown', 'reboot', 'halt', 'poweroff', 'kill',
  'killall', 'pkill', 'iptables', 'useradd', 'userdel', 'usermod', 'passwd', 'crontab', 'visudo',
  'systemctl', 'launchctl', 'format', 'diskutil',
];

/** Flags that override a program's own safety checks. */
const DANGEROUS_FLAGS: readonly string[] = ['--force', '--hard', '--no-preserve-root', '--force-with-lease', '--no-verify'];

/** Parameters whose value is a command line (a string or an array of words). */
export const COMMAND_PARAMS: readonly string[] = ['command', 'cmd', 'script', 'args', 'argv', 'flags'];

/** Key segments (or adjacent pairs, joined) that name a credential. */
const CREDENTIAL_KEYS: readonly string[] = [
  'password', 'passwd', 'passphrase', 'secret', 'token', 'credential', 'credentials',
  'apikey', 'privatekey', 'accesskey', 'secretkey', 'sshkey', 'authorization', 'cookie', 'bearer',
  'clientsecret', 'sessionkey', 'signingkey',
];

/** Key segments that make a credential-looking key harmless: `page_token`, `max_tokens`, `token_count`. */
const NON_SECRET_QUALIFIERS: readonly string[] = [
  'page', 'next', 'prev', 'continuation', 'cursor', 'resume', 'sync', 'max', 'min', 'count', 'limit',
  'budget', 'usage', 'type', 'kind', 'length', 'estimate',
];

/** Path fragments of secrets and system credentials (lowercased before matching). */
const SENSITIVE_PATHS: readonly string[] = [
  '~/.ssh', '.ssh/', '/.ssh', '.aws/credentials', '.aws/config', '/etc/shadow', '/etc/sudoers',
  '/etc/passwd', '.gnupg', '.netrc', '.git-credentials', '.kube/config', '.docker/config.json',
  'id_rsa', 'id_ed25519', 'id_ecdsa', '.npmrc', '.pypirc',
];

/** Extensions of key and certificate files. */
const SENSITIVE_EXTENSION = /\.(pem|key|p12|pfx|keystore|jks)(?![a-z0-9])/i;

/** Destructive phrases, matched case-insensitively with any run of whitespace between words. */
const DESTRUCTIVE_PHRASES: readonly RegExp[] = [
  /\bdrop\s+(table|database|schema)\b/i,
  /\bdelete\s+from\b/i,
  /\btruncate\s+table\b/i,
  /\brm\s+-[a-z]*r[a-z]*f|\brm\s+-[a-z]*f[a-z]*r/i,
  /\bgit\s+reset\b/i,
  /\bgit\s+push\b[^\n;|&]*\s(--force\b|-f\b)/i,
  /\bgit\s+clean\s+-[a-z]*f/i,
  /\b(curl|wget)\b[^\n;]*\|\s*(sudo\s+)?(sh|bash|zsh|python3?|perl|ruby|node)\b/i,
  /:\(\)\s*\{\s*:\|:&\s*\};:/,
  />\s*\/dev\/(sd|nvme|disk|hd)/i,
];

export interface ToolLookup {
  has(name: string): boolean;
}

export interface ClassifyOptions {
  /** The tools the session registered; a tool_call naming any other tool is `irreversible`. */
  tools?: ToolLookup | undefined;
}

export interface ActionClassification {
  action_id: string;
  tool: string | null;
  required_tier: Tier;
  /** Inferred from the action by the classifier, independently of the tier. */
  reversibility: Reversibility;
  /** What the action itself declared (the IR default is irreversible). */
  declared_reversibility: Reversibility;
  missing_compensation: boolean;
  /** Why the tier is what it is, one short note per trigger (most powerful first). */
  reasons: string[];
}

export interface ProposalClassification {
  classifications: ActionClassification[];
  declared_rollback_contract: Reversibility;
}

type ActionLike = Pick<Action, 'id' | 'type' | 'tool' | 'parameters' | 'reversibility' | 'compensation'>;

class TierAccumulator {
  tier: Tier = 'read_only';
  /** A dangerous command or destructive phrase was found in the parameters. */
  commandOrPhrase = false;
  /** Notes of every raise above read_only, first come first; made on the first one. */
  private notes: { tier: Tier; note: string }[] | null = null;

  /** Without notes it only finds the tier. */
  constructor(private readonly keepNotes: boolean) {}

  raise(tier: Tier, note: string): void {
    if (compareTiers(tier, this.tier) > 0) this.tier = tier;
    if (tier === 'read_only' || !this.keepNotes) return;
    if (this.notes === null) {
      this.notes = [{ tier, note }];
      return;
    }
    for (const n of this.notes) if (n.note === note) return;
    this.notes.push({ tier, note });
  }

  /** The notes of the raises that reached the final tier, at most 8. */
  reasons(): string[] {
    const out: string[] = [];
    if (this.notes === null) return out;
    for (const n of this.notes) {
      if (n.tier !== this.tier) continue;
      out.push(n.note);
      if (out.length === 8) break;
    }
    return out;
  }
}

/** Lowercase words of an identifier: `fs.readFile` → ['fs', 'read', 'file']. */
export function nameSegments(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toLowerCase()
    .split(/[._\-/\s:]+/)
    .filter((s) => s.length > 0);
}

/** Memo of tool-name and parameter-key verdicts: names repeat across actions and proposals. */
class BoundedMemo<V> {
  private readonly map = new Map<string, V>();

  constructor(private readonly limit: number) {}

  get(key: string, compute: (key: string) => V): V {
    let value = this.map.get(key);
    if (value === undefined && !this.map.has(key)) {
      value = compute(key);
      if (this.map.size >= this.limit) this.map.clear();
      this.map.set(key, value);
    }
    return value as V;
  }
}

const toolNameVerdicts = new BoundedMemo<{ tier: Tier; note: string }>(4096);

function toolNameVerdict(tool: string): { tier: Tier; note: string } {
  const segments = nameSegments(tool);
  for (const [tier, list] of [
    ['full_access', [...FULL_SEGMENTS, ...SECRET_SEGMENTS]],
    ['sandbox_edit', WRITE_SEGMENTS],
    ['read_only', READ_SEGMENTS],
  ] as const) {
    const hit = segments.find((s) => list.includes(s));
    if (hit !== undefined) return { tier, note: `tool name '${tool}' contains '${hit}'` };
  }
  return { tier: 'sandbox_edit', note: `tool '${tool}' matches no read-only keyword` };
}

function classifyToolName(tool: string, acc: TierAccumulator): void {
  const verdict = toolNameVerdicts.get(tool, toolNameVerdict);
  acc.raise(verdict.tier, verdict.note);
}

/** Words of a command line, split on whitespace and shell operators. */
function commandWords(value: unknown): string[] {
  const strings: string[] = [];
  if (typeof value === 'string') strings.push(value);
  else if (Array.isArray(value)) for (const v of value) if (typeof v === 'string') strings.push(v);
  const words: string[] = [];
  for (const s of strings) {
    for (const w of s.split(/[\s;|&()`$<>]+/)) if (w.length > 0) words.push(w);
  }
  return words;
}

function classifyCommand(key: string, value: unknown, acc: TierAccumulator): void {
  for (const word of commandWords(value)) {
    const lower = word.toLowerCase();
    const program = lower.slice(lower.lastIndexOf('/') + 1);
    const base = program.startsWith('mkfs.') ? 'mkfs' : program;
    if (DANGEROUS_COMMANDS.includes(base)) {
      acc.raise('full_access', `parameter '${key}' runs '${base}'`);
      acc.commandOrPhrase = true;
    } else if (DANGEROUS_FLAGS.includes(lower)) {
      acc.raise('full_access', `parameter '${key}' passes '${lower}'`);
      acc.commandOrPhrase = true;
    }
  }
}

const credentialKeys = new BoundedMemo<string | undefined>(4096);

/** The credential a key names (`api_key` → `apikey`), or undefined for an ordinary key. */
export function isCredentialKey(key: string): string | undefined {
  return credentialKeys.get(key, credentialIn);
}

function credentialIn(key: string): string | undefined {
  const segments = nameSegments(key);
  if (segments.some((s) => NON_SECRET_QUALIFIERS.includes(s))) return undefined;
  for (let i = 0; i < segments.length; i++) {
    const one = segments[i] as string;
    if (CREDENTIAL_KEYS.includes(one)) return one;
    const two = one + (segments[i + 1] ?? '');
    if (i + 1 < segments.length && CREDENTIAL_KEYS.includes(two)) return two;
  }
  return undefined;
}

function classifyString(path: string, value: string, acc: TierAccumulator): void {
  const lower = value.toLowerCase();
  const sensitive = SENSITIVE_PATHS.find((p) => lower.includes(p));
  if (sensitive !== undefined) acc.raise('full_access', `parameter '${path}' touches '${sensitive}'`);
  else if (SENSITIVE_EXTENSION.test(value)) acc.raise('full_access', `parameter '${path}' names a key or certificate file`);
  for (const phrase of DESTRUCTIVE_PHRASES) {
    const m = phrase.exec(value);
    if (m) {
      acc.raise('full_access', `parameter '${path}' contains '${m[0].replace(/\s+/g, ' ').slice(0, 40)}'`);
      acc.commandOrPhrase = true;
    }
  }
}

/** What a parameter key itself says: the credential it names, and whether it holds a command line. */
interface KeyVerdict {
  credential: string | undefined;
  command: boolean;
}

const keyVerdicts = new BoundedMemo<KeyVerdict>(4096);

function keyVerdict(key: string): KeyVerdict {
  return { credential: isCredentialKey(key), command: COMMAND_PARAMS.includes(key.toLowerCase()) };
}

function walkParameters(value: unknown, path: string, acc: TierAccumulator, depth: number): void {
  if (depth > 64) return;
  if (typeof value === 'string') {
    classifyString(path, value, acc);
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((v, i) => walkParameters(v, `${path}[${i}]`, acc, depth + 1));
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  const record = value as Record<string, unknown>;
  for (const key in record) {
    if (!Object.hasOwn(record, key)) continue;
    const v = record[key];
    // Numbers, booleans and nulls under an ordinary key say nothing: no path is needed for them.
    const verdict = keyVerdicts.get(key, keyVerdict);
    if (verdict.credential === undefined && !verdict.command && (typeof v !== 'object' || v === null) && typeof v !== 'string') continue;
    const at = path === '' ? key : `${path}.${key}`;
    if (verdict.credential !== undefined && v !== null && v !== undefined && v !== '') {
      acc.raise('full_access', `parameter '${at}' carries a credential ('${verdict.credential}')`);
    }
    if (verdict.command) classifyCommand(at, v, acc);
    walkParameters(v, at, acc, depth + 1);
  }
}

const reversibilityVerdicts = new BoundedMemo<Reversibility>(4096);

/**
 * Whether a tool's effect can be undone, from its name: destructive or external words →
 * irreversible, local changes → compensable, reads → reversible; a name matching none →
 * irreversible.
 */
function toolReversibility(tool: string): Reversibility {
  const segments = nameSegments(tool);
  if (segments.some((s) => FULL_SEGMENTS.includes(s))) return 'irreversible';
  if (segments.some((s) => WRITE_SEGMENTS.includes(s))) return 'compensable';
  if (segments.some((s) => READ_SEGMENTS.includes(s) || SECRET_SEGMENTS.includes(s))) return 'reversible';
  return 'irreversible';
}

/** Can this action be undone: its tool name, then destructive commands or phrases in its parameters. */
function inferReversibility(action: Pick<ActionLike, 'type' | 'tool'>, acc: TierAccumulator): Reversibility {
  if (action.type !== 'tool_call') return 'reversible';
  if (action.tool === undefined || acc.commandOrPhrase) return 'irreversible';
  return reversibilityVerdicts.get(action.tool, toolReversibility);
}

function accumulate(action: ActionLike, keepNotes: boolean): TierAccumulator {
  const acc = new TierAccumulator(keepNotes);
  if (action.type === 'state_write') acc.raise('sandbox_edit', 'writes session state');
  if (action.type === 'tool_call' && action.tool !== undefined) classifyToolName(action.tool, acc);
  walkParameters(action.parameters, '', acc, 0);
  return acc;
}

/** The tier that may authorize one action: `classifyAction(action).required_tier`, nothing else. */
export function requiredTier(action: ActionLike, _options: ClassifyOptions = {}): Tier {
  return accumulate(action, false).tier;
}

/** The tier that may authorize one action, and what is known about undoing it. */
export function classifyAction(action: ActionLike, _options: ClassifyOptions = {}): ActionClassification {
  const acc = accumulate(action, true);
  return {
    action_id: action.id,
    tool: action.tool ?? null,
    required_tier: acc.tier,
    reversibility: inferReversibility(action, acc),
    declared_reversibility: action.reversibility,
    missing_compensation: action.reversibility === 'compensable' && action.compensation === undefined,
    reasons: acc.reasons(),
  };
}

/** Classify every action, plus the proposal's declared rollback contract. */
export function classifyProposal(
  proposal: { actions: readonly ActionLike[] },
  options: ClassifyOptions = {},
): ProposalClassification {
  return {
    classifications: proposal.actions.map((a) => classifyAction(a, options)),
    declared_rollback_contract: rollbackContract(proposal.actions as Action[]),
  };
}

/** The most powerful of some tiers (read_only for none). */
export function maxTier(tiers: Iterable<Tier>): Tier {
  let best: Tier = TIERS[0];
  for (const t of tiers) if (compareTiers(t, best) > 0) best = t;
  return best;
}
