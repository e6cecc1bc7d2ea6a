import { parseArgs } from 'node:util';
import { UsageError } from './usage-error.js';

export interface CliArgs {
  port: number | undefined;
  host: string | undefined;
  noAuth: boolean;
  /** --no-approvals: switch off the high-risk method approval gate. */
  noApprovals: boolean;
  /** --no-dashboard: do not serve the dashboard on port+1. */
  noDashboard: boolean;
  requireAuth: boolean;
  socket: string | undefined;
  journalDir: string | undefined;
  /** --agents-manifest as given (resolved like --journal-dir). */
  agentsManifest: string | undefined;
  /** --dream-interval as given (parsed in settings). */
  dreamInterval: string | undefined;
  /** --mcp-bind as given (parsed in settings). */
  mcpBind: string | undefined;
  /** --a2a-bind as given (parsed in settings). */
  a2aBind: string | undefined;
  /** --a2a-allow-lan: the --a2a-bind listener may bind an address off the loopback. */
  a2aAllowLan: boolean;
  /** --a2a-peer-listen as given (parsed in settings). */
  a2aPeerListen: string | undefined;
  /** --a2a-peer-allow-lan: the peer listener may bind an address off the loopback. */
  a2aPeerAllowLan: boolean;
  help: boolean;
  version: boolean;
}

export const USAGE = `Usage: car-server [options]

Options:
  --port N         TCP port to listen on (default 9100; 0 picks a free port)
  --host H         address to bind (default 127.0.0.1)
  --no-auth        disable token auth (same as CAR_NO_AUTH=1)
  --no-approvals   run high-risk methods without waiting for a human approval
                   (same as CAR_NO_APPROVALS=1)
  --no-dashboard   do not serve the dashboard on 127.0.0.1:<port+1>
  --require-auth   deprecated, no effect: auth is on unless --no-auth is given
  --socket PATH    Unix socket path (same as CAR_SERVER_SOCKET)
  --journal-dir DIR
                   where each connection's event journal is written
                   (default $CAR_HOME/journals; a leading ~/.car/ means $CAR_HOME)
  --agents-manifest FILE
                   the supervised agents' manifest (default $CAR_HOME/agents.json;
                   a leading ~/.car/ means $CAR_HOME); its lock is FILE.lock
  --dream-interval T
                   memory consolidation cadence: seconds, or with a unit
                   (ms, s, m, h); default 15m; 0 turns it off
  --mcp-bind ADDR  the MCP endpoint (http://ADDR/mcp, health at /mcp/health):
                   host:port, default 127.0.0.1:9102; disabled turns it off.
                   It shares this daemon's memory graph with WebSocket clients
  --a2a-bind ADDR  serve A2A from the start on host:port (card, JSON-RPC, SSE), as
                   a2a.start would with no session: the filesystem tools under
                   $CAR_HOME/a2a/files, through this daemon's proposal gates
  --a2a-allow-lan  let --a2a-bind bind an address off the loopback
  --a2a-peer-listen ADDR
                   serve the peer-authenticated A2A listener on host:port (off
                   unless given): messages signed by a trusted peer's key
                   (a2a.peers.add with publicKey) are logged to
                   $CAR_HOME/peer-messages.jsonl and acknowledged; no tools
  --a2a-peer-allow-lan
                   let --a2a-peer-listen bind an address off the loopback
  -h, --help       show this help
  --version        print the version

Environment:
  CAR_HOME             state root, absolute path (default ~/.car); $CAR_HOME/env is loaded first
  CAR_NO_AUTH          1 disables auth
  CAR_NO_APPROVALS     1 switches off the approval gate
  CAR_SERVER_SOCKET    Unix socket path
  CAR_HANDLER_TIMEOUT  per-handler deadline, seconds
  CAR_TOOL_TIMEOUT     default tool callback deadline, seconds
  CAR_DREAM_INTERVAL   same as --dream-interval
  CAR_MCP_BIND         same as --mcp-bind
  CAR_ASSISTANT_MODEL  model id the MCP assistant_* tools run on (default: routed, tool_use)
  CAR_INFERENCE_MAX_CONCURRENT  inference permits (default: one per 8 GiB of RAM, 1-8)
  CAR_MODELS_PATH      model registry file (default $CAR_HOME/models.json)
  OLLAMA_HOST          local Ollama whose models are discovered (default 127.0.0.1:11434)
  CAR_NO_OLLAMA        1 skips Ollama discovery
  CAR_EMBED_MODEL      model id memory embeds facts with (default: none, lexical only)
  CAR_SKILLS_MODEL     model id skills.distill / skills.evolve / skill.repair run on (default: routed)
  OPENAI_API_KEY, ANTHROPIC_API_KEY, …  keys named by a model's api_key_env (read once, at start)
  CAR_LOG              log level: fatal, error, warn, info (default), debug, trace, silent
`;

export function parseCliArgs(argv: readonly string[]): CliArgs {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        'no-auth': { type: 'boolean', default: false },
        'no-approvals': { type: 'boolean', default: false },
        'no-dashboard': { type: 'boolean', default: false },
        'require-auth': { type: 'boolean', default: false },
        socket: { type: 'string' },
        'journal-dir': { type: 'string' },
        'agents-manifest': { type: 'string' },
        'dream-interval': { type: 'string' },
        'mcp-bind': { type: 'string' },
        'a2a-bind': { type: 'string' },
        'a2a-allow-lan': { type: 'boolean', default: false },
        'a2a-peer-listen': { type: 'string' },
        'a2a-peer-allow-lan': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
        version: { type: 'boolean', default: false },
      },
    }));
  } catch (err) {
    throw new UsageError(describeParseError(err));
  }
  if (values.host !== undefined && values.host.length === 0) throw new UsageError('--host must not be empty');
  if (values.socket !== undefined && values.socket.length === 0) throw new UsageError('--socket must not be empty');
  if (values['journal-dir'] !== undefined && values['journal-dir'].length === 0) {
    throw new UsageError('--journal-dir must not be empty');
  }
  if (values['agents-manifest'] !== undefined && values['agents-manifest'].length === 0) {
    throw new UsageError('--agents-manifest must not be empty');
  }
  return {
    port: values.port === undefined ? undefined : parsePort(values.port),
    host: values.host,
    noAuth: values['no-auth'],
    noApprovals: values['no-approvals'],
    noDashboard: values['no-dashboard'],
    requireAuth: values['require-auth'],
    socket: values.socket,
    journalDir: values['journal-dir'],
    agentsManifest: values['agents-manifest'],
    dreamInterval: values['dream-interval'],
    mcpBind: values['mcp-bind'],
    a2aBind: values['a2a-bind'],
    a2aAllowLan: values['a2a-allow-lan'],
    a2aPeerListen: values['a2a-peer-listen'],
    a2aPeerAllowLan: values['a2a-peer-allow-lan'],
    help: values.help,
    version: values.version,
  };
}

function parsePort(raw: string): number {
  const port = /^\d{1,5}$/.test(raw) ? Number(raw) : NaN;
  if (!(port >= 0 && port <= 65535)) throw new UsageError(`--port must be an integer from 0 to 65535, got ${JSON.stringify(raw)}`);
  return port;
}

function describeParseError(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  // parseArgs appends hints meant for script authors; the first sentence names the problem.
  const first = message.split(/\.(?:\s|$)/)[0] ?? message;
  return `${first.charAt(0).toLowerCase()}${first.slice(1)} (see --help)`;
}
