import assert from 'node:assert/strict';
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import test from 'node:test';
// Type-only: erased at compile time, so nothing from src/ is evaluated before the test runs.
import type * as Lib from '../../src/index.js';
import { removeTempDir, tempDir } from '../helpers/temp.js';

/**
 * The library must be inert: importing the package entry and constructing a ServerState reads
 * no environment variable, writes no file, and starts no timer, socket or other handle. This file
 * imports nothing from src/ statically, so the dynamic import below evaluates the whole module
 * graph for the first time, under observation.
 */
test('importing the package and constructing ServerState reads no env, writes no file, leaves no handle', async () => {
  const scratch = tempDir('car-boundary-');
  const cwd = join(scratch, 'cwd');
  const home = join(scratch, 'home');
  const tmp = join(scratch, 'tmp');
  for (const dir of [cwd, home, tmp]) mkdirSync(dir);

  const originalEnv = process.env;
  const originalCwd = process.cwd();
  const saved = { HOME: originalEnv.HOME, TMPDIR: originalEnv.TMPDIR, USERPROFILE: originalEnv.USERPROFILE };

  // Point every place a careless library might write at empty directories we can inspect.
  originalEnv.HOME = home;
  originalEnv.USERPROFILE = home;
  originalEnv.TMPDIR = tmp;
  process.chdir(cwd);

  // Who touched process.env: Node's own module loader does (WATCH_REPORT_DEPENDENCIES, …), and
  // so do `ws` and the optional native-addon loader it uses, at import time. Those are recorded
  // separately; the library's own code (anything under src/) must not touch it at all.
  const libraryReads: string[] = [];
  const dependencyReads: string[] = [];
  const envWrites: string[] = [];
  // The compiled library (build/src/), and its TypeScript sources for runs with --enable-source-maps.
  const libraryDirs = [new URL('../../src/', import.meta.url).pathname, new URL('../../../src/', import.meta.url).pathname];
  const inLibrary = (frame: string): boolean => libraryDirs.some((dir) => frame.includes(dir));
  const record = (key: string): void => {
    const holder: { stack?: string } = {};
    Error.captureStackTrace(holder, record);
    const frames = (holder.stack ?? '').split('\n').slice(2); // drop "Error" and the trap itself
    const caller = frames.find((f) => !f.includes('node:internal') && !f.includes('library-boundary.test'));
    if (frames.some(inLibrary)) libraryReads.push(key);
    else if (caller !== undefined && caller === frames[0]) dependencyReads.push(`${key} (${caller.trim()})`);
  };
  const spy = new Proxy(originalEnv, {
    get(target, key, receiver) {
      if (typeof key === 'string') record(key);
      return Reflect.get(target, key, receiver);
    },
    has(target, key) {
      if (typeof key === 'string') record(key);
      return Reflect.has(target, key);
    },
    ownKeys(target) {
      record('<enumerate>');
      return Reflect.ownKeys(target);
    },
    getOwnPropertyDescriptor(target, key) {
      if (typeof key === 'string') record(key);
      return Reflect.getOwnPropertyDescriptor(target, key);
    },
    set(target, key, value, receiver) {
      if (typeof key === 'string') envWrites.push(key);
      return Reflect.set(target, key, value, receiver);
    },
    deleteProperty(target, key) {
      if (typeof key === 'string') envWrites.push(key);
      return Reflect.deleteProperty(target, key);
    },
  });

  // Unref'd timers do not show in getActiveResourcesInfo(), so timer creation is watched directly.
  const timersCreated: string[] = [];
  const realTimers = { setTimeout, setInterval, setImmediate };
  const watch = <F extends (...args: never[]) => unknown>(name: string, fn: F): F =>
    ((...args: Parameters<F>) => {
      const holder: { stack?: string } = {};
      Error.captureStackTrace(holder);
      if (inLibrary(holder.stack ?? '')) timersCreated.push(name);
      return fn(...args);
    }) as unknown as F;
  globalThis.setTimeout = watch('setTimeout', realTimers.setTimeout) as typeof setTimeout;
  globalThis.setInterval = watch('setInterval', realTimers.setInterval) as typeof setInterval;
  globalThis.setImmediate = watch('setImmediate', realTimers.setImmediate) as typeof setImmediate;

  const resourcesBefore = process.getActiveResourcesInfo();
  let lib: typeof Lib;
  let states: unknown[];
  process.env = spy;
  try {
    lib = (await import(new URL('../../src/index.js?boundary', import.meta.url).href)) as typeof Lib;
    const config = new lib.ServerStateConfig({ authToken: 'tok', hostToken: 'host', port: 0 });
    states = [
      lib.ServerState.embedded(config),
      lib.ServerState.standalone(config),
      lib.ServerState.embedded(),
      lib.ServerState.embedded(lib.ServerStateConfig.defaults().withAuthToken('x')),
    ];
    // The MCP endpoint is exposed, not started: building it opens nothing.
    states.push(lib.createMcpEndpoint(states[0] as InstanceType<typeof lib.ServerState>));
  } finally {
    process.env = originalEnv;
    Object.assign(globalThis, realTimers);
  }
  // Give anything scheduled during construction (timers, immediates, I/O) a chance to show up.
  await new Promise((resolve) => setImmediate(resolve));
  const resourcesAfter = process.getActiveResourcesInfo();

  try {
    assert.equal(states.length, 5);
    assert.ok(typeof lib.runDispatch === 'function');
    assert.deepEqual(libraryReads, [], `the library read process.env: ${[...new Set(libraryReads)].join(', ')}`);
    // Third-party reads are tolerated only from ws's optional native-addon opt-outs.
    const unexpected = dependencyReads.filter((r) => !/node_modules\/(ws|node-gyp-build|bufferutil|utf-8-validate)\//.test(r));
    assert.deepEqual(unexpected, [], `a dependency read process.env during import: ${unexpected.join('; ')}`);
    assert.deepEqual(envWrites, [], `the library wrote process.env: ${envWrites.join(', ')}`);
    assert.deepEqual(readdirSync(cwd), [], 'nothing written to the working directory');
    assert.deepEqual(readdirSync(home), [], 'nothing written to HOME');
    assert.deepEqual(readdirSync(tmp), [], 'nothing written to TMPDIR');
    // Nothing new may be active afterwards (the runner's own requests may have finished meanwhile).
    const remaining = [...resourcesBefore];
    const added: string[] = [];
    for (const r of resourcesAfter) {
      const i = remaining.indexOf(r);
      if (i >= 0) remaining.splice(i, 1);
      else added.push(r);
    }
    assert.deepEqual(added, [], `timers or handles left active: ${added.join(', ')}`);
    assert.deepEqual(timersCreated, [], 'the library created timers while importing/constructing');
  } finally {
    process.chdir(originalCwd);
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete originalEnv[key];
      else originalEnv[key] = value;
    }
    removeTempDir(scratch);
  }
});
