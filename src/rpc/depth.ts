/**
 * True when the JSON text nests arrays/objects deeper than `maxDepth`. Runs before JSON.parse so
 * that pathological nesting is refused without building the value. Text shorter than
 * `2 * maxDepth` characters, or with no more than `maxDepth` brackets in all, cannot exceed the
 * bound and is not walked; string contents are skipped with native searches.
 */
export function exceedsJsonDepth(text: string, maxDepth: number): boolean {
  if (text.length <= 2 * maxDepth || !opensOver(text, maxDepth)) return false;
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      i = closingQuote(text, i);
      if (i === -1) return false;
    } else if (c === 0x5b /* [ */ || c === 0x7b /* { */) {
      if (++depth > maxDepth) return true;
    } else if (c === 0x5d /* ] */ || c === 0x7d /* } */) {
      depth--;
    }
  }
  return false;
}

/** Whether `text` holds more than `limit` opening brackets, wherever they are. */
function opensOver(text: string, limit: number): boolean {
  return opensUpTo(text, limit + 1) > limit;
}

/** Opening brackets in `text`, counted up to `cap` (the count stops there). */
function opensUpTo(text: string, cap: number): number {
  let n = 0;
  for (let i = text.indexOf('{'); i !== -1 && n < cap; i = text.indexOf('{', i + 1)) n++;
  for (let i = text.indexOf('['); i !== -1 && n < cap; i = text.indexOf('[', i + 1)) n++;
  return n;
}

/**
 * Frames with at most this many opening brackets are depth-checked after parsing, on the value:
 * even nested as deep as they could be, they parse in about a millisecond. Frames with more are
 * scanned before parsing, so a hostile deeply nested frame is refused without being built.
 */
export const CHECK_VALUE_UP_TO_OPENS = 8192;

/** How a frame's nesting is checked: not at all, on the parsed value, or on the text before parsing. */
export type DepthCheck = 'none' | 'value' | 'text';

/**
 * Pick the cheapest sound check for `text`: none when it has too few brackets to be too deep,
 * the value walk (about ten times cheaper than the text scan) when it has few enough that parsing
 * it first is harmless, the text scan otherwise.
 */
export function depthCheckFor(text: string, maxDepth: number): DepthCheck {
  if (text.length <= 2 * maxDepth) return 'none';
  const opens = opensUpTo(text, CHECK_VALUE_UP_TO_OPENS + 1);
  if (opens <= maxDepth) return 'none';
  return opens <= CHECK_VALUE_UP_TO_OPENS ? 'value' : 'text';
}

/**
 * True when a parsed JSON value nests arrays/objects deeper than `maxDepth` (a bare container is
 * depth 1, as in `exceedsJsonDepth`). Recursion stops at the bound, so the stack it uses is bounded too.
 */
export function valueExceedsDepth(value: unknown, maxDepth: number): boolean {
  return typeof value === 'object' && value !== null && (maxDepth === 0 || deeperThan(value, maxDepth - 1));
}

/** Whether a container inside `value` leaves less than `room` levels below `value`. */
function deeperThan(value: object, room: number): boolean {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const x: unknown = value[i];
      if (typeof x === 'object' && x !== null && (room === 0 || deeperThan(x, room - 1))) return true;
    }
    return false;
  }
  for (const key in value) {
    const x: unknown = (value as Record<string, unknown>)[key];
    if (typeof x === 'object' && x !== null && (room === 0 || deeperThan(x, room - 1))) return true;
  }
  return false;
}

/** Index of the quote that ends the string opened at `open` (one not escaped by an odd run of backslashes); -1 when none. */
function closingQuote(text: string, open: number): number {
  let at = open;
  for (;;) {
    at = text.indexOf('"', at + 1);
    if (at === -1) return -1;
    let k = at - 1;
    while (text.charCodeAt(k) === 0x5c /* \ */) k--;
    if (((at - 1 - k) & 1) === 0) return at;
  }
}
