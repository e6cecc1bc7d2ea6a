import type { Logger as PinoLogger } from 'pino';
import type { MemoryService } from '../memory/service.js';

export const DEFAULT_DREAM_INTERVAL_MS = 15 * 60 * 1000;

/**
 * The binary's consolidation cadence: one dream pass over every open memory graph, then a wait of
 * `intervalMs`, then the next. The next pass is scheduled only when the previous one has finished,
 * so passes never overlap. The library never starts this; embedders call `consolidate` themselves.
 */
export class DreamLoop {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;
  private passes = 0;

  constructor(
    private readonly memory: MemoryService,
    readonly intervalMs: number,
    private readonly logger: PinoLogger,
  ) {}

  start(): void {
    if (this.intervalMs <= 0) {
      this.logger.info({ dream_interval_ms: 0 }, 'dream loop off');
      return;
    }
    this.logger.info({ dream_interval_ms: this.intervalMs }, 'dream loop scheduled');
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.running = this.pass().finally(() => {
        this.running = null;
        this.schedule();
      });
    }, this.intervalMs);
    this.timer.unref();
  }

  private async pass(): Promise<void> {
    const started = performance.now();
    const pass = ++this.passes;
    try {
      const results = await this.memory.consolidateAll();
      const sum = (key: 'merged' | 'decayed' | 'candidates_promoted' | 'candidates_rejected' | 'superseded_retired'): number =>
        results.reduce((s, r) => s + r.report[key], 0);
      this.logger.info(
        {
          pass,
          scopes: results.length,
          facts_before: results.reduce((s, r) => s + r.report.facts_before, 0),
          facts_after: results.reduce((s, r) => s + r.report.facts_after, 0),
          merged: sum('merged'),
          superseded_retired: sum('superseded_retired'),
          candidates_promoted: sum('candidates_promoted'),
          candidates_rejected: sum('candidates_rejected'),
          decayed: sum('decayed'),
          duration_ms: Math.round(performance.now() - started),
        },
        'dream pass',
      );
    } catch (err) {
      this.logger.warn({ err, pass }, 'dream pass failed');
    }
  }

  /** Cancel the next pass and wait for one in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }
}
