import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FactInput } from '../memory/types.js';
import type { MemoryScope } from '../memory/scope.js';
import { MemoryService } from '../memory/service.js';
import { snapshotOf, type SnapshotData } from '../memory/snapshot.js';
import { MemoryError } from '../memory/types.js';
import type { Logger } from '../util/logger.js';
import { PidLock } from '../util/pid-lock.js';

/** The durable graph only `memory_add_fact` writes to. */
export const FACTS_NAMESPACE = 'mcp-stdio';
export const FACTS_LOCK_FILE = 'mcp-stdio.lock';
/** How long a write waits for another car-mcp process that is writing the same file. */
export const DEFAULT_FACTS_LOCK_WAIT_MS = 10_000;
const LOCK_POLL_MS = 10;

/**
 * The facts file of `car-mcp`, safe to share between every car-mcp process on one CAR_HOME (each
 * MCP client launches its own). Every use takes `<dir>/mcp-stdio.lock`, opens the file afresh (so
 * it reads what other processes wrote since), does its work, and closes it again, fsynced. No
 * process ever holds a graph that may miss another's facts while it writes, so none can replace
 * the file with such a graph.
 */
export class SharedFactFile {
  /** This process's own uses, one after the other (the lock refuses a second holder in one process). */
  private tail: Promise<unknown> = Promise.resolve();

  constructor(
    readonly dir: string,
    private readonly logger: Logger,
    private readonly lockWaitMs: number = DEFAULT_FACTS_LOCK_WAIT_MS,
  ) {}

  get lockPath(): string {
    return join(this.dir, FACTS_LOCK_FILE);
  }

  /** Every fact in the file now. */
  read(): Promise<SnapshotData> {
    return this.exclusive(async (facts) => snapshotOf(facts.engine));
  }

  /** Add `fact`; it is on disk when this resolves. */
  add(fact: FactInput): Promise<void> {
    return this.exclusive(async (facts) => {
      await facts.addFact(fact, 'mcp');
    });
  }

  /** Run `work` on the facts graph, opened afresh under the lock and closed (fsynced) after it. */
  private exclusive<T>(work: (facts: MemoryScope) => Promise<T>): Promise<T> {
    const run = (): Promise<T> =>
      this.locked(async () => {
        const service = new MemoryService({ memoryDir: this.dir, logger: this.logger });
        try {
          return await work(await service.namespace(FACTS_NAMESPACE));
        } finally {
          await service.close();
        }
      });
    const done = this.tail.then(run, run);
    this.tail = done.catch(() => undefined);
    return done;
  }

  private async locked<T>(work: () => Promise<T>): Promise<T> {
    const deadline = performance.now() + this.lockWaitMs;
    for (;;) {
      const lock = PidLock.acquire(this.lockPath);
      if (lock instanceof PidLock) {
        try {
          return await work();
        } finally {
          lock.release();
        }
      }
      if (performance.now() >= deadline) {
        throw new MemoryError(
          `the car-mcp memory file is busy: process ${lock.heldBy} has held ${FACTS_LOCK_FILE} for over ${this.lockWaitMs} ms; try again`,
          'unavailable',
        );
      }
      await sleep(LOCK_POLL_MS);
    }
  }
}
