import { z } from 'zod';
import type { StateView } from '../engine/state-store.js';
import { defineMethod, type MethodContext } from '../contract/index.js';

const tenantId = z.string().max(256).optional();
const key = z.string().min(1, 'key must be a non-empty string').max(4096);
const keyParams = z.object({ key, tenant_id: tenantId });
const scopeParams = z.object({ tenant_id: tenantId });

function view(ctx: MethodContext, tenant: string | undefined): StateView {
  return ctx.session.state.view(tenant);
}

export const stateGet = defineMethod({
  name: 'state.get',
  summary: "Read one key of this session's state; null when absent.",
  params: keyParams,
  handler: (p, ctx) => view(ctx, p.tenant_id).get(p.key),
});

export const stateSet = defineMethod({
  name: 'state.set',
  summary: "Write one key of this session's state.",
  params: z.object({ key, value: z.unknown().optional(), tenant_id: tenantId }),
  result: z.literal('ok'),
  handler(p, ctx) {
    view(ctx, p.tenant_id).set(p.key, p.value);
    return 'ok';
  },
});

export const stateExists = defineMethod({
  name: 'state.exists',
  summary: "Whether a key is present in this session's state.",
  params: keyParams,
  result: z.boolean(),
  handler: (p, ctx) => view(ctx, p.tenant_id).has(p.key),
});

export const stateKeys = defineMethod({
  name: 'state.keys',
  summary: 'Keys of this session\'s state (tenant-scoped when tenant_id is given).',
  params: scopeParams,
  result: z.array(z.string()),
  handler: (p, ctx) => view(ctx, p.tenant_id).keys(),
});

export const stateSnapshot = defineMethod({
  name: 'state.snapshot',
  summary: "All key/value pairs of this session's state (tenant-scoped when tenant_id is given).",
  params: scopeParams,
  result: z.record(z.string(), z.unknown()),
  handler: (p, ctx) => view(ctx, p.tenant_id).snapshot(),
});
