/** `1800000` → `1800s`, `150` → `0.15s`: a duration in seconds, without trailing zeros. */
export function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))}s`;
}
