import assert from 'node:assert/strict';
import test, { describe } from 'node:test';
import { BASIC_CATALOG } from '../../src/a2ui/index.js';
import { waitFor, type Frame, type RawClient } from '../helpers/raw-client.js';
import { startServer, useServer } from '../helpers/server.js';

/** The UI-improvement loop over the wire: render reports, agent patches, the budget and the oscillation detector. */

const create = (surfaceId: string) => ({ version: 'v0.9', createSurface: { surfaceId, catalogId: BASIC_CATALOG.id } });
const del = (surfaceId: string) => ({ version: 'v0.9', deleteSurface: { surfaceId } });
const patch = (surfaceId: string, label: string) => ({
  version: 'v0.9',
  updateComponents: { surfaceId, components: [{ id: 'root', component: 'Text', text: label }] },
});
const events = (c: RawClient, method: string): Frame[] => c.received.filter((f) => f?.method === method).map((f) => f.params);

describe('ui_agent_loop guards over WebSocket', () => {
  const server = useServer();

  test('default budget: 20 patches after render reports are applied, the 21st is refused until the surface is recreated', async () => {
    const renderer = await server.authed();
    const agent = await server.authed();
    await agent.result('a2ui/subscribe', {});
    await renderer.result('a2ui.apply', create('budget'));
    await renderer.result('a2ui.apply', patch('budget', 'v0'));
    for (let i = 1; i <= 20; i++) {
      const report = await renderer.result('a2ui.render_report', { surfaceId: 'budget', report: { overflow: true, iteration: i } });
      assert.deepEqual([report.awaitingPatch, report.remaining], [true, 21 - i]);
      const out = await agent.result('a2ui.apply', patch('budget', `v${i}`));
      assert.equal(out.refused, undefined, `patch ${i}`);
    }
    const spent = await renderer.result('a2ui.render_report', { surfaceId: 'budget', report: { overflow: true } });
    assert.equal(spent.skipped, 'budget_exhausted');
    assert.equal(spent.remaining, 0);
    const reportEvent = events(agent, 'a2ui.event').filter((e) => e.kind === 'render_report').at(-1);
    assert.equal(reportEvent.skipped, 'budget_exhausted', 'the agent is told to skip the surface');
    assert.deepEqual(reportEvent.report, { overflow: true });
    const late = await agent.result('a2ui.apply', patch('budget', 'v21'));
    assert.deepEqual([late.applied, late.refused], [false, { reason: 'budget_exhausted', remaining: 0 }], 'the 21st patch is refused');

    const got = await renderer.result('a2ui.get', { surfaceId: 'budget' });
    assert.equal(got.surface.components[0].text, 'v20');
    assert.deepEqual(got.surface.loop, { iterations: 20, remaining: 0, awaitingPatch: false });
    assert.ok(events(agent, 'a2ui.event').some((e) => e.kind === 'patch_refused' && e.reason === 'budget_exhausted'));
    assert.deepEqual(got.surface.lastRenderReport.report, { overflow: true });

    await renderer.result('a2ui.apply', del('budget'));
    await renderer.result('a2ui.apply', create('budget'));
    const fresh = await renderer.result('a2ui.render_report', { surfaceId: 'budget', report: {} });
    assert.equal(fresh.remaining, 20, 'recreated: a new budget');
  });

  test('a patch that returns to a recent state (A→B→A) is not applied: refused in the result, a2ui.event and host.event', async () => {
    const c = await server.authed({ handshake: true });
    await c.result('host.subscribe', {});
    await c.result('a2ui/subscribe', {});
    await c.result('a2ui.apply', create('osc'));
    await c.result('a2ui.apply', patch('osc', 'start'));
    for (const label of ['A', 'B']) {
      await c.result('a2ui.render_report', { surfaceId: 'osc', report: {} });
      assert.equal((await c.result('a2ui.apply', patch('osc', label))).refused, undefined);
    }
    await c.result('a2ui.render_report', { surfaceId: 'osc', report: {} });
    const back = await c.result('a2ui.apply', patch('osc', 'A'));
    assert.equal(back.applied, false);
    assert.deepEqual(back.refused, { reason: 'oscillation', remaining: 17 });
    assert.equal(back.surface.components[0].text, 'B', 'the surface stays where it was');
    const refusal = events(c, 'a2ui.event').find((e) => e.kind === 'patch_refused');
    assert.deepEqual([refusal.surfaceId, refusal.reason], ['osc', 'oscillation']);
    const lastMessage = events(c, 'a2ui.event').filter((e) => e.kind === 'message').at(-1);
    assert.equal(lastMessage.message.updateComponents.components[0].text, 'B', 'the refused patch was not broadcast');
    await waitFor(() => events(c, 'host.event').some((e) => e.kind === 'a2ui.patch_refused' && e.payload.reason === 'oscillation'), undefined, 'host.event a2ui.patch_refused');

    await c.result('a2ui.apply', patch('osc', 'A'));
    assert.equal((await c.result('a2ui.get', { surfaceId: 'osc' })).surface.components[0].text, 'A', 'with no report awaited, the host may set any state');
  });

  test('ingest: a refused patch is listed, the call\'s other surfaces still apply', async () => {
    const c = await server.authed();
    await c.result('a2ui.ingest', { messages: [create('g1'), create('g2'), patch('g1', 'A'), patch('g2', 'A')], contextId: 'loop' });
    await c.result('a2ui.render_report', { surfaceId: 'g1', report: {} });
    await c.result('a2ui.ingest', { messages: [patch('g1', 'B')], contextId: 'loop' });
    await c.result('a2ui.render_report', { surfaceId: 'g1', report: {} });
    await c.result('a2ui.ingest', { messages: [patch('g1', 'C')], contextId: 'loop' });
    await c.result('a2ui.render_report', { surfaceId: 'g1', report: {} });
    const out = await c.result('a2ui.ingest', { messages: [patch('g1', 'B'), patch('g2', 'B')], contextId: 'loop' });
    assert.deepEqual(out.refused.map((r: Frame) => [r.surfaceId, r.reason, r.indexes]), [['g1', 'oscillation', [0]]]);
    assert.deepEqual(out.applied.map((a: Frame) => a.surfaceId), ['g2']);
  });

  test('a2uiLoopMaxIterations and a2uiOscillationWindow at their bounds', async () => {
    const small = await startServer({ a2uiLoopMaxIterations: 2, a2uiOscillationWindow: 1 });
    try {
      const c = await small.authed();
      await c.result('a2ui.apply', create('s'));
      await c.result('a2ui.render_report', { surfaceId: 's', report: {} });
      await c.result('a2ui.apply', patch('s', 'A'));
      await c.result('a2ui.render_report', { surfaceId: 's', report: {} });
      assert.equal((await c.result('a2ui.apply', patch('s', 'B'))).refused, undefined, 'a window of 1 remembers only B now');
      const spent = await c.result('a2ui.render_report', { surfaceId: 's', report: {} });
      assert.equal(spent.skipped, 'budget_exhausted', 'two iterations, then none');
      const caps = await c.result('a2ui.capabilities', {});
      assert.deepEqual(caps.loop, { maxIterations: 2, oscillationWindow: 1 });
    } finally {
      await small.close();
    }
    const windowed = await startServer({ a2uiOscillationWindow: 1 });
    try {
      const c = await windowed.authed();
      await c.result('a2ui.apply', create('w'));
      for (const [label, refused] of [['A', false], ['B', false], ['A', false], ['A', true]] as const) {
        await c.result('a2ui.render_report', { surfaceId: 'w', report: {} });
        const out = await c.result('a2ui.apply', patch('w', label));
        assert.equal(out.refused?.reason === 'oscillation', refused, `${label}: ${JSON.stringify(out.refused)}`);
      }
    } finally {
      await windowed.close();
    }
  });
});
