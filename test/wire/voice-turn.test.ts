import assert from 'node:assert/strict';
import test, { after, before, describe } from 'node:test';
import { DEFAULT_VOICE_PROMPT_OVERLAY, resolveOverlay } from '../../src/voice/index.js';
import { AimockServer } from '../helpers/aimock.js';
import { modelsFile, openaiRow } from '../helpers/inference.js';
import type { Frame, RawClient } from '../helpers/raw-client.js';
import { startServer, type TestServer } from '../helpers/server.js';

const FAST_JOKE = 'Why did the fox cross the road? To get to the other side of the lazy dog.';
const SIDECAR_JOKE = 'A fox walks into a bar and orders nothing, it was just passing through.';
const CALENDAR = 'Tomorrow you have a dentist appointment at nine.';

const fixtures = [
  { match: { userMessage: 'joke', model: 'fast' }, response: { content: FAST_JOKE }, chunkSize: 8 },
  { match: { userMessage: 'joke', model: 'smart' }, response: { content: SIDECAR_JOKE } },
  { match: { userMessage: 'calendar', hasToolResult: true }, response: { content: CALENDAR } },
  { match: { userMessage: 'calendar' }, response: { toolCalls: [{ name: 'calendar_lookup', arguments: { day: 'tomorrow' } }] } },
  { match: { userMessage: 'open the pod bay doors' }, response: { toolCalls: [{ name: 'doors', arguments: { open: true } }] } },
  { match: { userMessage: 'ponder' }, response: { content: 'still pondering' }, latency: 5000 },
  { match: { endpoint: 'chat' }, response: { content: 'ok' } },
];

/** voice.event params until `stop` holds for one (all of them, in order). */
async function turnEvents(c: RawClient, stop: (e: Frame) => boolean, onOther?: (f: Frame) => void): Promise<Frame[]> {
  const out: Frame[] = [];
  for (;;) {
    const f = await c.next();
    if (f.method !== 'voice.event') {
      onOther?.(f);
      continue;
    }
    out.push(f.params.event);
    if (stop(f.params.event)) return out;
  }
}

const overlay = { fast_model: 'fast', sidecar_model: 'smart' };

describe('voice turns over the wire, models on aimock', () => {
  let mock: AimockServer;
  let files: ReturnType<typeof modelsFile>;
  let server: TestServer;
  before(async () => {
    mock = await AimockServer.start(fixtures);
    files = modelsFile([openaiRow('fast', mock.v1), openaiRow('smart', mock.v1)]);
    server = await startServer({ modelsPath: files.path, voiceSidecarMaxToolRounds: 1 });
  });
  after(async () => {
    await server.close();
    await mock.stop();
    files.cleanup();
  });

  test('the prompt overlay rules: null is the default, "" is off, a string replaces it', () => {
    assert.equal(resolveOverlay(null), DEFAULT_VOICE_PROMPT_OVERLAY);
    assert.equal(resolveOverlay(undefined), DEFAULT_VOICE_PROMPT_OVERLAY);
    assert.equal(resolveOverlay(''), null);
    assert.equal(resolveOverlay('Talk like a pirate.'), 'Talk like a pirate.');
    assert.ok(DEFAULT_VOICE_PROMPT_OVERLAY.length > 300 && DEFAULT_VOICE_PROMPT_OVERLAY.length <= 600);
  });

  test('a plain utterance: {turn_id} at once, fast deltas then fast_done, and the sidecar answer', async () => {
    const c = await server.authed();
    const { turn_id } = await c.result('voice.dispatch_turn', { utterance: 'Tell me a one-line joke.', config_overlay: overlay });
    assert.equal(turn_id, 1);
    const all = await turnEvents(c, (e) => e.type === 'voice.turn.sidecar');
    if (!all.some((e) => e.type === 'voice.turn.fast_done')) all.push(...(await turnEvents(c, (e) => e.type === 'voice.turn.fast_done')));
    assert.ok(all.every((e) => e.turn_id === 1));
    const deltas = all.filter((e) => e.type === 'voice.turn.fast_delta');
    assert.ok(deltas.length >= 2, 'streamed in pieces');
    assert.equal(deltas.map((e) => e.text).join(''), FAST_JOKE);
    assert.equal(all.find((e) => e.type === 'voice.turn.fast_done').text, FAST_JOKE);
    assert.equal(all.find((e) => e.type === 'voice.turn.sidecar').text, SIDECAR_JOKE);
    assert.ok(!all.some((e) => e.type === 'voice.turn.bridge'));
    const metered = await c.result('events.query', { kinds: ['InferenceMetered'] });
    assert.ok(metered.count >= 2);
  });

  test('a tool-likely utterance plays a bridge phrase; the sidecar runs the tool through proposal.submit and answers', async () => {
    const c = await server.authed();
    await c.result('tools.register', [{ name: 'calendar_lookup', description: 'Events on a day', parameters: { type: 'object', properties: { day: { type: 'string' } } } }]);
    const { turn_id } = await c.result('voice.dispatch_turn', { utterance: "What's on my calendar tomorrow?", session_id: 'mic-1', config_overlay: overlay });
    const executed: Frame[] = [];
    const events = await turnEvents(
      c,
      (e) => e.type === 'voice.turn.sidecar' || e.type === 'voice.turn.error',
      (f) => {
        if (f.method !== 'tools.execute') return;
        executed.push(f.params);
        c.send({ jsonrpc: '2.0', id: f.id, result: { events: ['dentist 09:00'] } });
      },
    );
    assert.deepEqual(events[0], { type: 'voice.turn.bridge', turn_id, kind: 'calendar', phrase: 'Let me look at your calendar.' });
    assert.equal(events.at(-1).type, 'voice.turn.sidecar', JSON.stringify(events));
    assert.equal(events.at(-1).text, CALENDAR);
    assert.equal(executed.length, 1);
    assert.equal(executed[0].tool, 'calendar_lookup');
    assert.deepEqual(executed[0].parameters, { day: 'tomorrow' });
    // The notifications carried the STT session id given.
    const raw = c.received.filter((f: Frame) => f.method === 'voice.event' && f.params.event.turn_id === turn_id);
    assert.ok(raw.every((f: Frame) => f.params.session_id === 'mic-1'));
  });

  test('SECURITY: a sidecar tool call a policy denies never reaches the client; the model is told it was refused', async () => {
    const c = await server.authed();
    await c.result('tools.register', [{ name: 'calendar_lookup', description: 'Events on a day', parameters: { type: 'object' } }]);
    await c.result('policy.register', { name: 'no-calendar', rule: 'deny_tool', target: 'calendar_lookup' });
    const executed: Frame[] = [];
    const events = await (async () => {
      await c.result('voice.dispatch_turn', { utterance: 'check my calendar', config_overlay: overlay });
      return turnEvents(c, (e) => e.type === 'voice.turn.sidecar' || e.type === 'voice.turn.error', (f) => void (f.method === 'tools.execute' && executed.push(f)));
    })();
    assert.equal(executed.length, 0, 'the denied tool was never called');
    assert.equal(events.at(-1).type, 'voice.turn.sidecar');
    const log = await c.result('events.query', {});
    assert.ok(JSON.stringify(log).includes('no-calendar') || JSON.stringify(log).includes('denied'), 'the refusal is in the event log');
  });

  test('voiceSidecarMaxToolRounds: a sidecar that keeps asking for tools stops at the bound with voice.turn.error', async () => {
    const c = await server.authed();
    await c.result('tools.register', [{ name: 'doors', description: 'Pod bay doors', parameters: { type: 'object' } }]);
    await c.result('voice.dispatch_turn', { utterance: 'open the pod bay doors', config_overlay: overlay });
    let calls = 0;
    const events = await turnEvents(
      c,
      (e) => e.type === 'voice.turn.sidecar' || e.type === 'voice.turn.error',
      (f) => {
        if (f.method !== 'tools.execute') return;
        calls++;
        c.send({ jsonrpc: '2.0', id: f.id, result: { ok: false, reason: 'I am afraid I cannot do that' } });
      },
    );
    assert.equal(calls, 1, 'one round ran');
    assert.equal(events.at(-1).type, 'voice.turn.error');
    assert.equal(events.at(-1).track, 'sidecar');
    assert.match(events.at(-1).error, /asked for tools after 1 rounds/);
  });

  test('barge-in: cancel_turn sends voice.turn.cancelled and the old turn never speaks again; a sidecar past its timeout is an error', async () => {
    const c = await server.authed();
    const first = await c.result('voice.dispatch_turn', { utterance: 'ponder the universe', config_overlay: overlay });
    const cancelled = await c.result('voice.cancel_turn', {});
    assert.deepEqual(cancelled, { cancelled: true, turn_id: first.turn_id });
    assert.deepEqual(await c.result('voice.cancel_turn', {}), { cancelled: false, turn_id: null });
    const second = await c.result('voice.dispatch_turn', { utterance: 'ponder again', config_overlay: overlay, sidecar_timeout_ms: 50 });
    assert.ok(second.turn_id > first.turn_id);
    const events = await turnEvents(c, (e) => e.type === 'voice.turn.error' && e.track === 'sidecar');
    assert.deepEqual(events[0], { type: 'voice.turn.cancelled', turn_id: first.turn_id });
    assert.ok(events.slice(1).every((e) => e.turn_id === second.turn_id), JSON.stringify(events));
    assert.match(events.at(-1).error, /did not answer within 50 ms/);
    // A new turn supersedes the running one the same way.
    const third = await c.result('voice.dispatch_turn', { utterance: 'ponder a third time', config_overlay: overlay });
    const fourth = await c.result('voice.dispatch_turn', { utterance: 'Tell me a joke', config_overlay: overlay });
    const rest = await turnEvents(c, (e) => e.type === 'voice.turn.sidecar' && e.turn_id === fourth.turn_id);
    assert.ok(rest.some((e) => e.type === 'voice.turn.cancelled' && e.turn_id === third.turn_id));
    assert.ok(!rest.some((e) => e.turn_id === third.turn_id && e.type !== 'voice.turn.cancelled' && e.type !== 'voice.turn.error'));
  });

  test('prewarm is idempotent and best-effort; bad params are refused', async () => {
    const c = await server.authed();
    assert.deepEqual(await c.result('voice.prewarm_turn', { config_overlay: { fast_model: 'fast' } }), { prewarmed: true, started: true });
    assert.deepEqual(await c.result('voice.prewarm_turn', {}), { prewarmed: true, started: false });
    const d = await server.authed();
    assert.deepEqual(await d.result('voice.prewarm_turn', { config_overlay: { fast_model: 'no-such-model' } }), { prewarmed: true, started: true });
    const e = await c.error('voice.dispatch_turn', { utterance: '' });
    assert.equal(e.code, -32602);
  });
});
