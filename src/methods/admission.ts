import { z } from 'zod';
import { defineMethod } from '../contract/index.js';
import { noParams } from './schemas.js';

export const admissionStatus = defineMethod({
  name: 'admission.status',
  summary: 'A snapshot of the shared inference semaphore: permits total, free and held, the override, the callers queued and the queue limit.',
  params: noParams,
  result: z.object({
    permits_total: z.number(),
    permits_available: z.number(),
    permits_in_use: z.number(),
    env_override: z.number().nullable(),
    queue_depth: z.number(),
    queue_max: z.number().nullable(),
  }),
  handler: (_p, { state }) => state.admission.status(),
});
