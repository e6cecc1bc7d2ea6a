import { prng } from './prng.js';

/** How big generated values get; each is asked with the depth and the generator's random source. */
export interface JsonShape {
  /** Times a string leaf repeats its text (1 by default). */
  repeat?: (depth: number, next: () => number) => number;
  /** Length of an array (0 to 3 by default). */
  arrayLength?: (depth: number, next: () => number) => number;
  /** Keys of an object, repeats allowed (0 to 4 names like `k17` by default). */
  keys?: (depth: number, next: () => number) => string[];
}

/** A seeded generator of JSON values: numbers, strings that need escaping, booleans, null, arrays and objects. */
export function jsonValues(seed: number, shape: JsonShape = {}): () => unknown {
  const next = prng(seed);
  const repeat = shape.repeat ?? (() => 1);
  const arrayLength = shape.arrayLength ?? ((_d, r) => Math.floor(r() * 4));
  const keys = shape.keys ?? ((_d, r) => Array.from({ length: Math.floor(r() * 5) }, () => `k${Math.floor(r() * 1000)}`));
  const value = (depth: number): unknown => {
    const r = next();
    if (depth > 3 || r < 0.3) {
      const p = next();
      if (p < 0.25) return Math.floor(next() * 2000) - 1000;
      if (p < 0.4) return next() * 10;
      if (p < 0.7) return `s${Math.floor(next() * 100)}é"\n`.repeat(repeat(depth, next));
      if (p < 0.85) return next() < 0.5;
      return null;
    }
    if (r < 0.55) return Array.from({ length: arrayLength(depth, next) }, () => value(depth + 1));
    const out: Record<string, unknown> = {};
    for (const k of keys(depth, next)) out[k] = value(depth + 1);
    return out;
  };
  return () => value(0);
}
