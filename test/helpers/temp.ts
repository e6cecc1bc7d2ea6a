import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';

const leftovers = new Set<string>();
process.once('exit', () => {
  for (const dir of leftovers) rmSync(dir, { recursive: true, force: true });
});

const deferred = new WeakMap<TestContext, (() => unknown)[]>();

/** Run `fn` after the test, last registered first (node:test runs `t.after` hooks first-in first-out). */
export function defer(t: TestContext, fn: () => unknown): void {
  let stack = deferred.get(t);
  if (!stack) {
    const fns: (() => unknown)[] = [];
    deferred.set(t, (stack = fns));
    t.after(async () => {
      for (const f of fns.reverse()) await f();
    });
  }
  stack.push(fn);
}

/**
 * A fresh directory under the system temp dir. Given a test context it is removed after that test
 * (after everything the test started, see `defer`); otherwise when the test process exits.
 */
export function tempDir(t: TestContext, prefix?: string): string;
export function tempDir(prefix?: string): string;
export function tempDir(a?: TestContext | string, b?: string): string {
  const t = typeof a === 'object' ? a : undefined;
  const prefix = (typeof a === 'string' ? a : b) ?? 'car-test-';
  const dir = mkdtempSync(join(tmpdir(), prefix));
  if (t) defer(t, () => rmSync(dir, { recursive: true, force: true }));
  else leftovers.add(dir);
  return dir;
}

/** Remove a directory made by `tempDir` now rather than at exit. */
export function removeTempDir(dir: string): void {
  leftovers.delete(dir);
  rmSync(dir, { recursive: true, force: true });
}
