import assert from 'node:assert/strict';
import test, { after, before, describe } from 'node:test';
import type { RawClient } from '../helpers/raw-client.js';
import { HOST_TOKEN, startServer, type TestServer } from '../helpers/server.js';
import { removeTempDir, tempDir } from '../helpers/temp.js';

/**
 * Wire compatibility with the upstream protocol reference (`websocket-protocol.md` of
 * Parslee-ai/car-releases at 910c372, v0.48.0, protocol 2): every method of the reference this
 * daemon serves, called in order on one host connection with the reference's own example params,
 * and its answer checked against the reference's result shape. Extra fields are allowed; a
 * missing or retyped one fails here first. Rows that need a model, a Docker engine or a started
 * process check that the call is understood (a typed error naming the cause, never -32600/-32601).
 */

type Json = Record<string, unknown>;
type Check = (result: any, ctx: Json) => void;
interface Row {
  method: string;
  params: Json | unknown[] | null | ((ctx: Json) => unknown);
  /** The result's shape; or `error` for calls that need something this test machine lacks. */
  check?: Check;
  error?: RegExp;
  /** Run on a connection bound to an agent (run writes are the owning agent's alone). */
  asAgent?: true;
}

const hasKeys = (...keys: string[]): Check => (r) => {
  assert.ok(r !== null && typeof r === 'object' && !Array.isArray(r), `expected an object, got ${JSON.stringify(r)}`);
  for (const k of keys) assert.ok(k in r, `missing ${k} in ${JSON.stringify(r).slice(0, 300)}`);
};
const isArray: Check = (r) => assert.ok(Array.isArray(r), `expected an array, got ${JSON.stringify(r)}`);
const isNull: Check = (r) => assert.equal(r, null);
const isNumber: Check = (r) => assert.equal(typeof r, 'number');
const isString: Check = (r) => assert.equal(typeof r, 'string');
const isBool: Check = (r) => assert.equal(typeof r, 'boolean');
const every = (...checks: Check[]): Check => (r, ctx) => checks.forEach((c) => c(r, ctx));

const WRITE_PROPOSAL = {
  id: 'compat-p1',
  actions: [{ id: 'w1', type: 'state_write', parameters: { key: 'compat', value: 1 }, expected_effects: { compat: 1 } }],
};
const TOOL_PROPOSAL = {
  actions: [
    { id: 'fetch', type: 'tool_call', tool: 'web_fetch', parameters: { url: 'https://example.com' }, expected_effects: { fetched: true } },
    { id: 'store', type: 'tool_call', tool: 'db_insert', parameters: { table: 't' }, dependencies: ['fetch'], expected_effects: { stored: true } },
  ],
};
const CLASSIFY_PROPOSAL = {
  actions: [
    { id: 'a1', type: 'tool_call', tool: 'read_secret', parameters: { name: 'prod-db' } },
    { id: 'a2', type: 'tool_call', tool: 'db_insert', parameters: { table: 'orders', row: { id: 1 } } },
  ],
};

const ROWS: Row[] = [
  { method: 'server.handshake', params: { protocol_version: 2, client_version: '0.25.0' }, check: hasKeys('protocol_version', 'server_version', 'client_protocol_version') },
  { method: 'capabilities.list', params: {}, check: (r) => assert.ok(r !== null && typeof r === 'object') },
  { method: 'admission.status', params: {}, check: every(hasKeys('permits_total', 'permits_available', 'permits_in_use', 'env_override'), (r) => assert.equal(typeof r.env_override, 'string')) },
  // state
  { method: 'state.set', params: { key: 'greeting', value: 'hello' }, check: (r) => assert.equal(r, 'ok') },
  { method: 'state.get', params: { key: 'greeting' }, check: (r) => assert.equal(r, 'hello') },
  { method: 'state.exists', params: { key: 'greeting' }, check: isBool },
  { method: 'state.keys', params: {}, check: isArray },
  { method: 'state.snapshot', params: {}, check: hasKeys('greeting') },
  // tools
  { method: 'tools.register', params: [{ name: 'web_fetch', description: 'fetch a URL', parameters: { type: 'object' } }], check: isNumber },
  { method: 'tools.list', params: {}, check: hasKeys('tools', 'count') },
  { method: 'tools.unregister', params: { name: 'web_fetch' }, check: hasKeys('unregistered', 'removed') },
  { method: 'tools.poll', params: { handle: 'no-such-handle' }, check: isNull },
  { method: 'tools.cancel', params: { handle: 'no-such-handle' }, check: (r) => assert.deepEqual(r, { cancelled: false }) },
  { method: 'tools.stream.subscribe', params: {}, check: (r) => assert.equal(r.subscribed, true) },
  // runtime
  { method: 'session.init', params: { tools: [{ name: 'web_fetch' }], policies: [] }, check: hasKeys('session_id', 'tools_registered', 'policies_registered') },
  { method: 'session.policy.open', params: {}, check: (r, ctx) => { hasKeys('session_id')(r, ctx); ctx.policySession = r.session_id; } },
  { method: 'policy.register', params: (ctx) => ({ name: 'no_shell', rule: 'deny_tool', target: 'shell', session_id: ctx.policySession }), check: hasKeys('registered', 'scope') },
  { method: 'policy.list', params: (ctx) => ({ session_id: ctx.policySession }), check: hasKeys('policies', 'scope') },
  { method: 'policy.unregister', params: (ctx) => ({ name: 'no_shell', session_id: ctx.policySession }), check: hasKeys('unregistered', 'removed', 'scope') },
  { method: 'session.policy.close', params: (ctx) => ({ session_id: ctx.policySession }), check: (r) => assert.deepEqual(r, { closed: true }) },
  { method: 'session.bindSubstrate', params: { connector: 'github' }, error: /not connected/ },
  { method: 'session.bindSandbox', params: { working_dir: '/tmp/work', image: 'python:3.11-slim', network: 'none', memory: '512m', cpus: '1.0', pids_limit: 256, command_timeout_secs: 30 }, error: /preflight/ },
  { method: 'replan.set_config', params: { max_replans: 2, delay_ms: 0, verify_before_execute: false, replan_on_rejected: false }, check: isNull },
  { method: 'proposal.submit', params: { proposal: WRITE_PROPOSAL }, check: hasKeys('proposal_id', 'results', 'cost') },
  { method: 'verify', params: { proposal: TOOL_PROPOSAL, initial_state: {} }, check: hasKeys('valid', 'issues', 'simulated_state', 'execution_levels', 'conflicts', 'evidence') },
  {
    method: 'verify.monte_carlo',
    params: { proposal: TOOL_PROPOSAL, initial_state: {}, tool_success_rates: { web_fetch: 0.9 }, goal: { state_predicate: { key: 'stored', value: true } }, rate_window_days: 30, config: { trials: 200, seed: 7 } },
    check: every(
      hasKeys('trials', 'seed', 'p_goal_reached', 'goal_underivable_conditions', 'p_all_effects_landed', 'tool_calls', 'actions_executed', 'state_distribution', 'action_outcomes', 'rate_provenance'),
      (r) => {
        hasKeys('mean', 'min', 'p50', 'p95', 'max')(r.tool_calls, {});
        hasKeys('key', 'p_present', 'values')(r.state_distribution[0], {});
        hasKeys('action_id', 'p_rejected', 'p_failed', 'p_effects_landed', 'mean_blast_radius')(r.action_outcomes[0], {});
        hasKeys('window_days', 'trajectories_available', 'overridden_by_caller', 'tools')(r.rate_provenance, {});
      },
    ),
  },
  // permissions
  { method: 'permission.get_tier', params: {}, check: hasKeys('granted_tier') },
  { method: 'permission.set_tier', params: { tier: 'sandbox_edit' }, check: (r) => assert.deepEqual(r, { granted_tier: 'sandbox_edit' }) },
  {
    method: 'permission.classify',
    params: { proposal: CLASSIFY_PROPOSAL },
    check: (r) => {
      hasKeys('classifications', 'declared_rollback_contract')(r, {});
      assert.deepEqual(r.classifications.map((c: Json) => [c.required_tier, c.reversibility]), [['full_access', 'reversible'], ['sandbox_edit', 'compensable']]);
      hasKeys('action_id', 'tool', 'required_tier', 'reversibility', 'missing_compensation')(r.classifications[0], {});
    },
  },
  { method: 'permission.evaluate', params: { proposal: CLASSIFY_PROPOSAL }, check: (r) => hasKeys('action_id', 'fingerprint', 'decision', 'required', 'reversibility')(r.decisions[0], {}) },
  { method: 'permission.pending', params: { proposal: CLASSIFY_PROPOSAL }, check: (r) => assert.deepEqual(r.pending.map((d: Json) => d.action_id), ['a1']) },
  // events and metrics (null params, as the reference sends them)
  { method: 'events.count', params: null, check: isNumber },
  { method: 'events.query', params: { kinds: ['action_succeeded', 'proposal_completed'], limit: 10 }, check: (r) => { hasKeys('count', 'events')(r, {}); assert.ok(r.count >= 1, 'snake_case kinds match'); } },
  { method: 'events.chain.enable', params: null, check: (r) => assert.deepEqual(r, { ok: true }) },
  { method: 'events.chain.verify', params: null, check: (r) => assert.ok('verified' in r || 'tampered_at' in r) },
  { method: 'events.retention', params: { policy: { max_events: 10_000 } }, check: hasKeys('policy') },
  { method: 'events.cost_by_agent', params: null, check: isArray },
  { method: 'metrics.summary', params: null, check: hasKeys('total_events', 'actions_succeeded') },
  { method: 'metrics.alerts', params: { max_cost_usd: 10 }, check: (r) => assert.ok(r !== null && typeof r === 'object') },
  // memory
  { method: 'memory.add_fact', params: { subject: 'editor', body: 'the team uses vim', kind: 'preference' }, check: isNumber },
  { method: 'memory.query', params: { query: 'editor', k: 5 }, check: (r) => { isArray(r, {}); hasKeys('subject', 'body', 'kind', 'confidence')(r[0], {}); } },
  { method: 'memory.build_context', params: { query: 'editor', model_context_window: 8192 }, check: isString },
  { method: 'memory.fact_count', params: null, check: isNumber },
  { method: 'memory.consolidate', params: null, check: (r) => { assert.ok(Array.isArray(r.candidates_promoted) && Array.isArray(r.candidates_rejected)); } },
  { method: 'memory.utility_get', params: null, check: hasKeys('utility_weight', 'utility_exploration') },
  { method: 'memory.utility_set', params: { utility_weight: 0.3 }, check: hasKeys('utility_weight', 'utility_exploration') },
  { method: 'memory.update_status', params: { body: 'migrating the database' }, check: hasKeys('id', 'body') },
  { method: 'memory.save_knowledge', params: { id: 'deploy-key', subject: 'deploy key', body: 'the deploy key is in vault', tags: ['ops'], confidence: 'high' }, check: (r) => { hasKeys('id', 'kind', 'fact_count')(r, {}); assert.equal(r.kind, 'knowledge'); } },
  { method: 'memory.save_procedural', params: { subject: 'flaky migration', body: 'run it twice when it times out', confidence: 'medium' }, check: (r) => assert.equal(r.kind, 'procedural') },
  { method: 'memory.maintain', params: { max_recent: 32 }, check: hasKeys('trigger', 'saved', 'skipped_existing') },
  { method: 'memory.intervene', params: { query: 'where is the deploy key', trigger: { tool_error: true }, max_candidates: 8 }, check: (r) => { hasKeys('decision', 'candidates', 'bank')(r, {}); } },
  {
    method: 'memory.evaluate',
    params: { cases: [{ id: 'c1', request: { query: 'where is the deploy key' }, relevant_fact_ids: ['deploy-key'] }] },
    check: (r) => {
      hasKeys('cases', 'selective', 'always_inject', 'passive_retrieval', 'no_memory')(r, {});
      hasKeys('interventions', 'true_positives', 'false_positives', 'false_negatives', 'precision', 'recall', 'interruption_rate', 'avg_candidates_exposed')(r.selective, {});
    },
  },
  { method: 'memory.delete', params: { id: 'deploy-key' }, check: hasKeys('id', 'deleted', 'kind', 'fact_count') },
  { method: 'memory.persist', params: { path: 'compat.json' }, check: isNumber },
  { method: 'memory.load', params: { path: 'compat.json' }, check: isNumber },
  // skills
  { method: 'skill.ingest', params: { name: 'add_component', code: 'mkdir -p src/components/$Name', platform: 'bash', persona: 'frontend-engineer', task_keywords: ['component'], description: 'Scaffold a component' }, check: isNumber },
  { method: 'skill.find', params: { persona: 'frontend-engineer', task: 'add a new component', max_results: 1 }, check: (r) => hasKeys('name', 'code', 'platform', 'description', 'stats', 'match_score')(r[0], {}) },
  { method: 'skill.report', params: { skill_name: 'add_component', outcome: 'timeout' }, check: hasKeys('success_count', 'fail_count') },
  { method: 'skill.repair', params: { skill_name: 'add_component' }, check: isNull },
  { method: 'skills.list', params: {}, check: isArray },
  { method: 'skills.ingest_distilled', params: { skills: [{ name: 'summarise', code: 'x', description: 'summarise a page', domain: 'web' }] }, check: (r) => assert.deepEqual(r, { ingested: 1 }) },
  { method: 'skills.domains_needing_evolution', params: { threshold: 0.6 }, check: isArray },
  { method: 'skills.distill', params: { events: [] }, error: /needs an inference provider/ },
  { method: 'skills.evolve', params: { events: [], domain: 'web' }, error: /needs an inference provider/ },
  // runs
  { method: 'runs.start', asAgent: true, params: { intent: 'compat walk', outcome_description: 'every row answers' }, check: (r, ctx) => { hasKeys('run_id', 'agent_id')(r, ctx); ctx.runId = r.run_id; ctx.agentId = r.agent_id; } },
  { method: 'runs.record_turns', asAgent: true, params: (ctx) => ({ run_id: ctx.runId, turns: [{ prompt: 'p', tool: 'web_fetch', output: 'o' }] }), check: (r) => assert.deepEqual(Object.keys(r).sort(), ['base_index', 'count', 'ok', 'run_id']) },
  { method: 'runs.subscribe', params: (ctx) => ({ run_id: ctx.runId }), check: (r) => { hasKeys('run_id', 'agent_id', 'turns_so_far', 'cursor', 'status')(r, {}); assert.equal(r.turns_so_far[0].record, 'turn'); } },
  { method: 'runs.unsubscribe', params: (ctx) => ({ run_id: ctx.runId }), check: (r) => assert.equal(r.removed, true) },
  { method: 'runs.complete', asAgent: true, params: (ctx) => ({ run_id: ctx.runId, outcome: { status: 'success', summary: 'done' } }), check: hasKeys('run_id', 'ok') },
  { method: 'runs.list', params: (ctx) => ({ agent_id: ctx.agentId }), check: (r) => { hasKeys('agent_id', 'runs')(r, {}); hasKeys('run_id', 'agent_id', 'intent', 'started_at', 'status', 'turn_count')(r.runs[0], {}); } },
  {
    method: 'runs.get_trace',
    params: (ctx) => ({ run_id: ctx.runId }),
    check: (r) => {
      hasKeys('run_id', 'agent_id', 'records', 'cursor')(r, {});
      assert.equal(r.cursor, 0);
      assert.deepEqual(r.records.map((x: Json) => x.record), ['started', 'turn', 'ended']);
    },
  },
  // registry
  { method: 'registry.register', params: { entry: { name: 'compat-agent', dashboard_url: 'http://127.0.0.1:9000', status: 'running', display_name: 'Compat', port: 9000, pid: 4242 } }, check: isNull },
  { method: 'registry.heartbeat', params: { name: 'compat-agent' }, check: (r) => assert.deepEqual(r, { refreshed: true }) },
  { method: 'registry.list', params: {}, check: (r) => hasKeys('name', 'dashboard_url', 'status', 'registered_at', 'last_heartbeat_at')(r[0], {}) },
  { method: 'registry.reap', params: { max_age_secs: 60 }, check: isArray },
  { method: 'registry.unregister', params: { name: 'compat-agent' }, check: isNull },
  // host
  { method: 'host.subscribe', params: {}, check: hasKeys('subscribed', 'agents', 'devices', 'approvals', 'events') },
  { method: 'host.register_agent', params: { id: 'compat-host-agent', name: 'Researcher', kind: 'research', capabilities: ['chat'] }, check: hasKeys('id', 'name', 'kind', 'status') },
  { method: 'host.set_status', params: { agent_id: 'compat-host-agent', status: 'running', current_task: 'reading' }, check: (r) => assert.equal(r.status, 'running') },
  { method: 'host.agents', params: {}, check: (r) => assert.ok(Array.isArray(r) || Array.isArray(r?.agents)) },
  { method: 'host.notify', params: { kind: 'host.notification', message: 'hello', payload: { a: 1 } }, check: hasKeys('id', 'kind', 'timestamp') },
  { method: 'host.events', params: { limit: 100 }, check: hasKeys('events') },
  { method: 'host.register_device', params: { id: 'compat-device', name: 'Phone', platform: 'ios', capabilities: ['notify'] }, check: hasKeys('id', 'name', 'platform') },
  { method: 'host.update_device', params: { device_id: 'compat-device', status: 'online' }, check: hasKeys('id') },
  { method: 'host.devices', params: {}, check: (r) => assert.ok(Array.isArray(r) || Array.isArray(r?.devices)) },
  { method: 'host.request_approval', params: { title: 'Deploy?', description: 'ship it', context: { env: 'prod' } }, check: (r, ctx) => { hasKeys('id', 'title', 'status')(r, ctx); ctx.approvalId = r.id; } },
  { method: 'host.resolve_approval', params: (ctx) => ({ approval_id: ctx.approvalId, approved: true, notes: 'ok' }), check: (r) => assert.equal(r.status, 'approved') },
  { method: 'host.approvals', params: {}, check: hasKeys('approvals') },
  { method: 'host.unregister_agent', params: { agent_id: 'compat-host-agent' }, check: (r) => assert.deepEqual(r, { ok: true }) },
  // supervision
  { method: 'supervision.subscribe', params: { filter: { tools: ['nothing-matches'] } }, check: hasKeys('subscribed', 'decision_timeout_ms', 'supervisors') },
  { method: 'supervision.pending', params: {}, check: hasKeys('intents') },
  { method: 'supervision.decide', params: { intent_id: 'no-such-intent', decision: { kind: 'allow' } }, error: /intent/ },
  { method: 'supervision.unsubscribe', params: {}, check: hasKeys('subscribed', 'was_subscribed') },
  // integrations
  { method: 'messages.send', params: { recipient: '+15555550123', body: 'hello' }, check: hasKeys('available', 'backend', 'sent') },
  { method: 'vision.ocr', params: { image_path: '/nonexistent/compat.png', fast_path: false, languages: ['en-US'] }, check: hasKeys('available', 'observations') },
  // inference (no model on this machine: typed errors)
  { method: 'models.list_unified', params: {}, check: isArray },
  { method: 'models.stats', params: null, check: hasKeys('profiles') },
  { method: 'models.route', params: { prompt: 'summarise this page' }, error: /no available model/ },
  { method: 'inference.register_runner', params: {}, check: (r) => assert.deepEqual(r, { registered: true }) },
  { method: 'inference.runner.complete', params: { call_id: 'no-such-call', result: { text: 'x', tool_calls: [] } }, error: /call/ },
  { method: 'inference.runner.event', params: { call_id: 'no-such-call', event: { type: 'text', data: 'hi' } }, error: /call|runner event/ },
  { method: 'inference.runner.fail', params: { call_id: 'no-such-call', error: 'x' }, error: /call/ },
  { method: 'infer', params: { model: 'no-such-model', messages: [{ role: 'user', content: 'hi' }] }, error: /model/ },
  { method: 'embed', params: { texts: ['hello'], model: 'no-such-model' }, error: /model/ },
  { method: 'classify', params: { text: 'great product', labels: ['positive', 'negative'], model: 'no-such-model' }, error: /model/ },
  { method: 'tokenize', params: { model: 'no-such-model', text: 'hello' }, error: /model/ },
  { method: 'detokenize', params: { model: 'no-such-model', tokens: [1, 2] }, error: /model/ },
  // agents (no manifest entries here: the not-found answers)
  { method: 'agents.list', params: {}, check: isArray },
  { method: 'agents.health', params: {}, check: isArray },
  { method: 'agents.start', params: { id: 'no-such-agent' }, error: /no-such-agent/ },
  { method: 'agents.stop', params: { id: 'no-such-agent', signal: 'term' }, error: /no-such-agent/ },
  { method: 'agents.remove', params: { id: 'no-such-agent' }, check: hasKeys('removed') },
  { method: 'agents.restart', params: { id: 'no-such-agent' }, error: /no-such-agent/ },
  { method: 'agents.wait', params: { id: 'no-such-agent', targets: ['running'], timeout_secs: 1 }, error: /no-such-agent/ },
  { method: 'agents.tail_log', params: { id: 'no-such-agent', n: 10, stream: 'combined' }, error: /no-such-agent/ },
  { method: 'agents.chat.cancel', params: { session_id: 'no-such-chat' }, check: (r) => assert.ok(r !== undefined) },
  { method: 'goal.status', params: { session_id: 'no-such-chat' }, check: (r) => assert.ok(r !== undefined) },
  { method: 'goal.clear', params: { session_id: 'no-such-chat' }, check: (r) => assert.ok(r !== undefined) },
  // voice
  { method: 'voice.providers.list', params: {}, check: (r) => { isArray(r, {}); hasKeys('id', 'kind', 'available', 'description')(r[0], {}); } },
  { method: 'voice.sessions.list', params: {}, check: isArray },
  { method: 'voice.tts_stream.list', params: {}, check: hasKeys('streams') },
  { method: 'voice.tts_stream.cancel', params: { stream_id: 'no-such-stream' }, check: hasKeys('stream_id', 'cancelled') },
  { method: 'voice.transcribe_stream.stop', params: { session_id: 'no-such-session' }, error: /no-such-session|session/ },
];

describe('wire compatibility: every reference method with its example params', () => {
  let server: TestServer;
  let dir: string;
  let c: RawClient;
  let agent: RawClient;
  const ctx: Json = {};
  before(async () => {
    dir = tempDir('car-compat-');
    server = await startServer({
      registryDir: `${dir}/registry`,
      runsDir: `${dir}/runs`,
      memoryDir: `${dir}/memory`,
      ocrProgram: 'car-compat-no-such-ocr',
      approvalGate: { enabled: false, methods: [], timeoutMs: 1000 },
    });
    c = await server.connect();
    assert.equal((await c.result('session.auth', { host_token: HOST_TOKEN, memory_namespace: 'compat' })).role, 'host');
    agent = await server.authed({ params: { agent_id: 'compat-runner' } });
  });
  after(async () => {
    await server.close();
    removeTempDir(dir);
  });

  for (const row of ROWS) {
    test(row.method, async () => {
      const params = typeof row.params === 'function' ? (row.params as (ctx: Json) => unknown)(ctx) : row.params;
      const reply = await (row.asAgent ? agent : c).call(row.method, params);
      if (row.error) {
        assert.ok('error' in reply, `${row.method} answered ${JSON.stringify(reply.result)?.slice(0, 200)}`);
        assert.ok(reply.error.code !== -32600 && reply.error.code !== -32601, JSON.stringify(reply.error));
        assert.match(reply.error.message, row.error);
        return;
      }
      assert.ok('result' in reply, `${row.method} failed: ${JSON.stringify(reply.error)}`);
      row.check!(reply.result, ctx);
    });
  }
});
