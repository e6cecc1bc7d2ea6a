import { z } from 'zod';
import { DECISION_KINDS } from '../engine/supervision/supervisor.js';
import { defineMethod } from '../contract/index.js';
import { noParams } from './schemas.js';

const label = z.string().min(1).max(256);

const subscribeParams = z
  .object({
    filter: z
      .object({
        tools: z.array(label).max(4096).optional(),
        sessions: z.array(label).max(4096).optional(),
        min_reversibility: label.optional(),
      })
      .optional(),
  })
  .optional();

const decideParams = z.object({
  intent_id: label,
  decision: z.object({ kind: z.enum(DECISION_KINDS), reason: z.string().max(4096).optional() }),
});

export const supervisionSubscribe = defineMethod({
  name: 'supervision.subscribe',
  summary: 'Watch proposals from every session that match a filter, and decide each before it runs; calling again replaces the filter.',
  params: subscribeParams,
  result: z.object({ subscribed: z.literal(true), decision_timeout_ms: z.number(), supervisors: z.number() }),
  handler(p, { state, session }) {
    const supervisors = state.supervision.subscribe(session.clientId, {
      filter: p?.filter ?? {},
      deliver: (intent) => {
        session.channel.notify('supervision.intent', intent as unknown as Record<string, unknown>);
      },
    });
    return { subscribed: true, decision_timeout_ms: state.supervision.decisionTimeoutMs, supervisors };
  },
});

export const supervisionUnsubscribe = defineMethod({
  name: 'supervision.unsubscribe',
  summary: 'Stop supervising; intents already waiting stay pending.',
  params: noParams,
  result: z.object({ subscribed: z.literal(false), was_subscribed: z.boolean() }),
  handler: (_p, { state, session }) => ({ subscribed: false, was_subscribed: state.supervision.unsubscribe(session.clientId) }),
});

export const supervisionPending = defineMethod({
  name: 'supervision.pending',
  summary: 'Intents waiting for a decision, oldest first.',
  params: noParams,
  handler: (_p, { state }) => ({ intents: state.supervision.pending() }),
});

export const supervisionDecide = defineMethod({
  name: 'supervision.decide',
  summary: 'Allow, deny or escalate a pending intent; deny and escalate need a reason.',
  params: decideParams,
  result: z.object({ decided: z.literal(true) }),
  handler(p, { state }) {
    state.supervision.decide(p.intent_id, p.decision);
    return { decided: true };
  },
});

export const supervisionMethods = [supervisionSubscribe, supervisionUnsubscribe, supervisionPending, supervisionDecide];
