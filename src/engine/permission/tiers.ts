/** Permission tiers, least to most powerful. */
export const TIERS = ['read_only', 'sandbox_edit', 'full_access'] as const;
export type Tier = (typeof TIERS)[number];

/** The tier every session starts with. */
export const DEFAULT_TIER: Tier = 'sandbox_edit';

export function isTier(value: unknown): value is Tier {
  return typeof value === 'string' && (TIERS as readonly string[]).includes(value);
}

/** Negative when `a` grants less than `b`. */
export function compareTiers(a: Tier, b: Tier): number {
  return TIERS.indexOf(a) - TIERS.indexOf(b);
}
