import { z } from 'zod';
import { MAX_REPLAN_DELAY_MS, MAX_REPLANS } from '../engine/replan.js';
import { defineMethod } from '../contract/index.js';

export const replanSetConfig = defineMethod({
  name: 'replan.set_config',
  summary:
    "Set this session's re-plan settings (stored only: re-planning needs inference, which is not wired in yet).",
  params: z.object({
    max_replans: z.number().int().min(0).max(MAX_REPLANS),
    delay_ms: z.number().int().min(0).max(MAX_REPLAN_DELAY_MS).optional(),
    verify_before_execute: z.boolean().optional(),
    replan_on_rejected: z.boolean().optional(),
  }),
  result: z.null(),
  handler(p, ctx) {
    ctx.session.replan = {
      max_replans: p.max_replans,
      delay_ms: p.delay_ms ?? 0,
      verify_before_execute: p.verify_before_execute ?? false,
      replan_on_rejected: p.replan_on_rejected ?? false,
    };
    return null;
  },
});
