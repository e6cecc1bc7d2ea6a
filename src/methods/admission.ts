import { z } from 'zod';
import { defineMethod } from '../contract/index.js';
import { noParams } from './schemas.js';

export const admissionStatus = defineMethod({
  name: 'admission.status',
  summary: 'A snapshot of the shared inference semaphore: permits total, free and held, the override (a string, empty when none), the callers queued and the queue limit.',
  params: noParams,
  result: z.object({
    permits_total: z.number(),
    permits_available: z.number(),
    permits_in_use: z.number(),
    env_override: z.string(),
    queue_depth: z.number(),
    queue_max: z.number().nullable(),
  }),
  handler: (_p, { state }) => {
    const status = state.admission.status();
    return { ...status, env_override: status.env_override === null ? '' : String(status.env_override) };
  },
});
