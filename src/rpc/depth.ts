/**
 * True when the JSON text nests arrays/objects deeper than `maxDepth`. Runs before JSON.parse so
 * that pathological nesting is refused without building the value. Text shorter than
 * `2 * maxDepth` characters cannot exceed the bound and is not scanned.
 */
export function exceedsJsonDepth(text: string, maxDepth: number): boolean {
  if (text.length <= 2 * maxDepth) return false;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c /* \ */) i++;
      else if (c === 0x22 /* " */) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b /* [ */ || c === 0x7b /* { */) {
      if (++depth > maxDepth) return true;
    } else if (c === 0x5d /* ] */ || c === 0x7d /* } */) {
      depth--;
    }
  }
  return false;
}
