import { jsonSizeOver } from '../util/json-size.js';

/**
 * JSON text of a big value written a slice at a time, so that serialising it never holds the
 * event loop for long: the same text `JSON.stringify` gives, built from `JSON.stringify` of
 * pieces no larger than a slice. Only plain arrays and objects are opened; anything else (a
 * `toJSON`, a class instance) is written whole, as JSON.stringify would.
 */

function isPlainContainer(v: unknown): v is unknown[] | Record<string, unknown> {
  if (typeof v !== 'object' || v === null) return false;
  if (typeof (v as { toJSON?: unknown }).toJSON === 'function') return false;
  if (Array.isArray(v)) return true;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

interface Open {
  container: unknown[] | Record<string, unknown>;
  keys: string[] | null;
  next: number;
  /** A member was written: the next one needs a comma. */
  wrote: boolean;
}

/** A long string being written piecewise (its quotes are written around the pieces). */
interface LongString {
  text: string;
  at: number;
}

/**
 * Serialises one value in steps; each `step` writes about `sliceBytes` of text as one chunk, so
 * what stays alive between steps is a few big strings, not many small ones.
 */
export class JsonWriter {
  private readonly chunks: string[] = [];
  private readonly stack: (Open | LongString)[] = [];
  private readonly open = new Set<object>();
  private out: string[] = [];

  constructor(
    value: unknown,
    private readonly sliceBytes: number,
  ) {
    this.write(value, '');
    this.chunks.push(this.out.join(''));
    this.out = [];
  }

  /** Write about one slice; true once the text is complete. Throws what JSON.stringify would. */
  step(): boolean {
    let budget = this.sliceBytes;
    while (this.stack.length > 0 && budget > 0) {
      const top = this.stack[this.stack.length - 1]!;
      if ('text' in top) {
        budget -= this.stringPiece(top);
      } else if (top.keys === null) {
        budget -= this.arrayRun(top, budget);
      } else if (top.next >= top.keys.length) {
        this.close(top, '}');
      } else {
        const key = top.keys[top.next++]!;
        const written = this.write((top.container as Record<string, unknown>)[key], `${top.wrote ? ',' : ''}${JSON.stringify(key)}:`);
        if (written >= 0) top.wrote = true;
        budget -= Math.max(1, written);
      }
    }
    this.chunks.push(this.out.join(''));
    this.out = [];
    return this.stack.length === 0;
  }

  /** The whole text, once `step` said it is done. */
  text(): string {
    return this.chunks.join('');
  }

  private close(top: Open, bracket: string): void {
    this.out.push(bracket);
    this.stack.pop();
    this.open.delete(top.container);
  }

  /** Elements of an array written whole, as many as fit the budget, in one JSON.stringify. */
  private arrayRun(top: Open, budget: number): number {
    const items = top.container as unknown[];
    if (top.next >= items.length) {
      this.close(top, ']');
      return 1;
    }
    let end = top.next;
    let size = 0;
    while (end < items.length && size < budget) {
      const item = items[end];
      const n = jsonSizeOver(item, this.sliceBytes);
      if (n > this.sliceBytes && (isPlainContainer(item) || typeof item === 'string')) break;
      size += n + 1;
      end++;
    }
    if (end === top.next) {
      // The next element is big: open it.
      this.write(items[top.next++], top.wrote ? ',' : '');
      top.wrote = true;
      return 1;
    }
    const run = JSON.stringify(items.slice(top.next, end));
    this.out.push(top.wrote ? ',' : '', run.slice(1, -1));
    top.next = end;
    top.wrote = true;
    return run.length;
  }

  /** The next piece of a long string, never cutting a surrogate pair (which JSON would escape apart). */
  private stringPiece(top: LongString): number {
    if (top.at >= top.text.length) {
      this.out.push('"');
      this.stack.pop();
      return 1;
    }
    let end = Math.min(top.text.length, top.at + this.sliceBytes);
    const last = top.text.charCodeAt(end - 1);
    if (end < top.text.length && last >= 0xd800 && last <= 0xdbff) end--;
    const piece = JSON.stringify(top.text.slice(top.at, end));
    this.out.push(piece.slice(1, -1));
    top.at = end;
    return piece.length;
  }

  /**
   * Write `prefix` and `value`: whole when it is small or not plain data, else open it for later
   * steps. Returns the characters written, or -1 when JSON leaves the value out (undefined, a
   * function: nothing is written, and inside an array it is null).
   */
  private write(value: unknown, prefix: string): number {
    const big = (isPlainContainer(value) || typeof value === 'string') && jsonSizeOver(value, this.sliceBytes) > this.sliceBytes;
    if (big && typeof value === 'string') {
      this.out.push(prefix, '"');
      this.stack.push({ text: value, at: 0 });
      return prefix.length + 1;
    }
    if (big) {
      const container = value as unknown[] | Record<string, unknown>;
      if (this.open.has(container)) throw new TypeError('Converting circular structure to JSON');
      this.open.add(container);
      const isArray = Array.isArray(container);
      this.out.push(prefix, isArray ? '[' : '{');
      this.stack.push({ container, keys: isArray ? null : Object.keys(container), next: 0, wrote: false });
      return prefix.length + 1;
    }
    const text = JSON.stringify(value) as string | undefined;
    if (text === undefined) return -1;
    this.out.push(prefix, text);
    return prefix.length + text.length;
  }
}
