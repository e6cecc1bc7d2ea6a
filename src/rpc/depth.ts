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
  let n = 0;
  for (let i = text.indexOf('{'); i !== -1; i = text.indexOf('{', i + 1)) if (++n > limit) return true;
  for (let i = text.indexOf('['); i !== -1; i = text.indexOf('[', i + 1)) if (++n > limit) return true;
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
