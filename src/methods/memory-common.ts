import { z } from 'zod';
import type { MemoryScope } from '../memory/scope.js';
import type { MethodContext, SessionContext } from '../contract/index.js';

export const tenantId = z.string().min(1).max(256).optional();
export const subject = z.string().max(4096);
export const body = z.string().max(256 * 1024);
export const tags = z.array(z.string().max(256)).max(64).optional();
/** Numbers, or numeric strings (the MCP schema sends confidence as a string). */
/** Words a confidence may be given as, and the number each stands for. */
const CONFIDENCE_WORDS: Readonly<Record<string, number>> = { certain: 1, high: 0.9, medium: 0.6, moderate: 0.6, low: 0.3, uncertain: 0.2 };

/**
 * A confidence as a number, a numeric string, or any other string: a known word maps to its
 * number, an unknown word leaves the default confidence.
 */
export const confidenceParam = z
  .union([z.number(), z.string().max(256)])
  .transform((c): number | undefined => {
    if (typeof c === 'number') return c;
    const n = c.trim() === '' ? NaN : Number(c);
    return Number.isFinite(n) ? n : CONFIDENCE_WORDS[c.trim().toLowerCase()];
  })
  .optional();

/** The graph a session's memory calls go to: namespace, then agent, then the shared graph. */
export function scopeOf(ctx: MethodContext): Promise<MemoryScope> {
  return ctx.state.memory.forBinding(ctx.session);
}

export interface StatusSlot {
  id: string;
  body: string;
  tenant_id?: string;
}

/** The proactive status slot is private to a connection: one per tenant, the next update overwrites it. */
const statusSlots = new WeakMap<SessionContext, Map<string, StatusSlot>>();

export function statusId(tenant: string | undefined): string {
  return `proactive-status:${tenant ?? 'global'}`;
}

export function setStatus(session: SessionContext, slot: StatusSlot): void {
  let slots = statusSlots.get(session);
  if (!slots) statusSlots.set(session, (slots = new Map()));
  slots.set(slot.id, slot);
}

export function getStatus(session: SessionContext, tenant: string | undefined): StatusSlot | undefined {
  return statusSlots.get(session)?.get(statusId(tenant));
}

export function clearStatus(session: SessionContext, id: string): boolean {
  return statusSlots.get(session)?.delete(id) ?? false;
}

/** What the context Identity section says about the caller. */
export function identityOf(ctx: MethodContext, scope: MemoryScope): { scope: string; agent_id: string | null; namespace: string | null } {
  return {
    scope: scope.kind === 'shared' ? 'shared daemon graph' : scope.label,
    agent_id: ctx.session.agentId,
    namespace: ctx.session.memoryNamespace,
  };
}
