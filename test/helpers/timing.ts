/**
 * How much longer than normal a test may wait on this machine: `CAR_TEST_TIMEOUT_SCALE` (default
 * 1). Every timeout a test cannot avoid goes through `scaled`, so a busy machine only needs a
 * bigger factor, never an edited test.
 */
export const TIMEOUT_SCALE = ((): number => {
  const raw = Number(process.env.CAR_TEST_TIMEOUT_SCALE ?? 1);
  return Number.isFinite(raw) && raw > 0 ? raw : 1;
})();

export function scaled(ms: number): number {
  return Math.ceil(ms * TIMEOUT_SCALE);
}
