/**
 * A parsed JSON value cut into batches of small operations, and rebuilt from them on the other
 * side, so that a big value crosses from a parser thread to the main thread a bounded slice at a
 * time instead of in one long deserialisation.
 *
 * Operations (`key` is the member name inside an object, null inside an array or at the root):
 *   [SET, key, value]   a value small enough to travel whole
 *   [ARRAY, key]        open an array;  [OBJECT, key] open an object;  [END] close the innermost
 *   [STRING, key, part] the first part of a long string;  [MORE, part] the next part of it
 */
export type SliceOp =
  | readonly [typeof SET, string | null, unknown]
  | readonly [typeof ARRAY | typeof OBJECT, string | null]
  | readonly [typeof END]
  | readonly [typeof STRING, string | null, string]
  | readonly [typeof MORE, string];

const SET = 0;
const ARRAY = 1;
const OBJECT = 2;
const END = 3;
const STRING = 4;
const MORE = 5;

/**
 * Characters of one part of a long string. Copying a string costs far less than rebuilding objects,
 * and a part this long is born outside the young generation, so the collector never copies it.
 */
const STRING_PART = 1024 * 1024;

/** Rough JSON length of every container, recorded for those over `min` (the ones that get split). */
function measure(value: unknown, big: Map<object, number>, min: number): number {
  if (typeof value === 'string') return value.length + 2;
  if (typeof value !== 'object' || value === null) return 8;
  let n = 2;
  if (Array.isArray(value)) {
    for (const item of value) n += measure(item, big, min) + 1;
  } else {
    for (const key of Object.keys(value)) n += key.length + 4 + measure((value as Record<string, unknown>)[key], big, min);
  }
  if (n > min) big.set(value, n);
  return n;
}

interface Open {
  value: Record<string, unknown> | unknown[];
  keys: string[] | null;
  next: number;
}

interface LongString {
  text: string;
  at: number;
}

/**
 * The operations that rebuild `root`, in batches of roughly `batchBytes` of JSON each. Containers
 * and strings larger than a batch are opened and sent piecewise; everything else travels whole.
 */
export function* sliceJson(root: unknown, batchBytes: number): Generator<SliceOp[], void, void> {
  const big = new Map<object, number>();
  measure(root, big, batchBytes);
  const stack: (Open | LongString)[] = [];
  let batch: SliceOp[] = [];
  let used = 0;
  const emit = (key: string | null, value: unknown): void => {
    if (typeof value === 'object' && value !== null && big.has(value)) {
      const isArray = Array.isArray(value);
      batch.push([isArray ? ARRAY : OBJECT, key]);
      stack.push({ value: value as Open['value'], keys: isArray ? null : Object.keys(value), next: 0 });
      used += 2;
    } else if (typeof value === 'string' && value.length > batchBytes) {
      const part = Math.max(batchBytes, STRING_PART);
      batch.push([STRING, key, value.slice(0, part)]);
      stack.push({ text: value, at: part });
      used += batchBytes;
    } else {
      batch.push([SET, key, value]);
      used += typeof value === 'object' && value !== null ? measure(value, big, Number.POSITIVE_INFINITY) : typeof value === 'string' ? value.length : 8;
    }
  };
  emit(null, root);
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    if ('text' in top) {
      if (top.at >= top.text.length) {
        stack.pop();
      } else {
        const part = top.text.slice(top.at, top.at + Math.max(batchBytes, STRING_PART));
        batch.push([MORE, part]);
        top.at += part.length;
        used += batchBytes;
      }
    } else {
      const length = top.keys === null ? (top.value as unknown[]).length : top.keys.length;
      if (top.next >= length) {
        batch.push([END]);
        stack.pop();
      } else if (top.keys === null) {
        emit(null, (top.value as unknown[])[top.next++]);
      } else {
        const key = top.keys[top.next++]!;
        emit(key, (top.value as Record<string, unknown>)[key]);
      }
    }
    if (used >= batchBytes) {
      yield batch;
      batch = [];
      used = 0;
    }
  }
  yield batch;
}

/** Rebuilds a value from the batches of `sliceJson`, applied in order. */
export class JsonRebuild {
  value: unknown = undefined;
  private readonly stack: (Record<string, unknown> | unknown[])[] = [];
  /** Where the long string being received sits. */
  private stringIn: Record<string, unknown> | unknown[] | undefined;
  private stringKey: string | number = 0;

  apply(ops: readonly SliceOp[]): void {
    for (const op of ops) {
      switch (op[0]) {
        case SET:
          this.put(op[1], op[2]);
          break;
        case ARRAY:
        case OBJECT: {
          const container = op[0] === ARRAY ? [] : {};
          this.put(op[1], container);
          this.stack.push(container);
          break;
        }
        case END:
          this.stack.pop();
          break;
        case STRING:
          this.put(op[1], op[2]);
          break;
        case MORE: {
          const target = this.stringIn as Record<string | number, unknown> | undefined;
          if (target === undefined) this.value = (this.value as string) + op[1];
          else target[this.stringKey] = (target[this.stringKey] as string) + op[1];
          break;
        }
      }
    }
  }

  private put(key: string | null, value: unknown): void {
    const parent = this.stack[this.stack.length - 1];
    if (parent === undefined) {
      this.value = value;
      this.stringIn = undefined;
    } else if (Array.isArray(parent)) {
      this.stringIn = parent;
      this.stringKey = parent.push(value) - 1;
    } else {
      // As JSON.parse does: "__proto__" is an own member, never the prototype.
      if (key === '__proto__') Object.defineProperty(parent, key, { value, writable: true, enumerable: true, configurable: true });
      else parent[key!] = value;
      this.stringIn = parent;
      this.stringKey = key!;
    }
  }
}
