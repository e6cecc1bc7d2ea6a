import type { FactRecord } from './types.js';

/**
 * Utility-aware retrieval knobs (`memory.utility_get` / `utility_set`). `utility_weight` blends a
 * fact's track record (how often it was retrieved or injected) into its activation;
 * `utility_exploration` gives rarely retrieved facts a bonus so they get a chance to earn one.
 * Both zero leaves ranking to relevance alone, which is the default.
 */
export interface UtilitySettings {
  utility_weight: number;
  utility_exploration: number;
}

export const DEFAULT_UTILITY: Readonly<UtilitySettings> = Object.freeze({ utility_weight: 0, utility_exploration: 0 });

export const UTILITY_WEIGHT_MAX = 1;
export const UTILITY_EXPLORATION_MAX = 4;

/** Non-finite → 0, then clamped to [0, max]. */
export function clampSetting(value: number, max: number): number {
  if (!Number.isFinite(value)) return 0;
  return Math.min(max, Math.max(0, value));
}

/** Apply a partial update in place; omitted fields keep their value. Returns the applied values. */
export function updateUtility(
  settings: UtilitySettings,
  patch: { utility_weight?: number | undefined; utility_exploration?: number | undefined },
): UtilitySettings {
  if (patch.utility_weight !== undefined) settings.utility_weight = clampSetting(patch.utility_weight, UTILITY_WEIGHT_MAX);
  if (patch.utility_exploration !== undefined) {
    settings.utility_exploration = clampSetting(patch.utility_exploration, UTILITY_EXPLORATION_MAX);
  }
  return { ...settings };
}

/** Track record in [0,1): saturates after a handful of retrievals; injections count double. */
export function utilityOf(fact: Pick<FactRecord, 'access_count' | 'injection_count'>): number {
  return 1 - Math.exp(-(fact.access_count + 2 * fact.injection_count) / 5);
}

/** Multiplier on a fact's activation. Exactly 1 with both knobs at zero. */
export function utilityFactor(
  fact: Pick<FactRecord, 'access_count' | 'injection_count'>,
  settings: UtilitySettings,
  queries: number,
): number {
  const w = settings.utility_weight;
  const blend = 1 - w + w * utilityOf(fact);
  const bonus =
    settings.utility_exploration === 0
      ? 0
      : 0.05 * settings.utility_exploration * Math.sqrt(Math.log(1 + queries) / (1 + fact.access_count));
  return blend + bonus;
}
