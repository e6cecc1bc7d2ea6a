import { z } from 'zod';

/** Params of a method that takes none: `{}` (extra keys tolerated), `[]`, or absent. */
export const noParams = z.union([z.object({}).loose(), z.array(z.unknown()).max(0)]);
