/** How each model has done since the daemon started (`models.stats`), and what the router learns from. */
export interface ModelProfile {
  model_id: string;
  total_calls: number;
  success_count: number;
  fail_count: number;
  success_rate: number | null;
  avg_latency_ms: number;
  /** Exponential moving average of per-call quality in 0..1 (1 = a complete answer). */
  ema_quality: number | null;
}

/** Weight of the newest observation in `ema_quality`. */
export const EMA_ALPHA = 0.2;

interface Row {
  calls: number;
  ok: number;
  fail: number;
  latencyTotal: number;
  latencyCount: number;
  ema: number | null;
}

export class ModelStats {
  private readonly rows = new Map<string, Row>();

  private row(id: string): Row {
    let r = this.rows.get(id);
    if (!r) this.rows.set(id, (r = { calls: 0, ok: 0, fail: 0, latencyTotal: 0, latencyCount: 0, ema: null }));
    return r;
  }

  /**
   * A finished call. `quality` is 1 for a complete answer, less for one cut by the token limit,
   * 0 for a failure.
   */
  record(id: string, ok: boolean, latencyMs: number, quality: number = ok ? 1 : 0): void {
    const r = this.row(id);
    r.calls++;
    if (ok) {
      r.ok++;
      r.latencyTotal += latencyMs;
      r.latencyCount++;
    } else {
      r.fail++;
    }
    r.ema = r.ema === null ? quality : r.ema + EMA_ALPHA * (quality - r.ema);
  }

  profile(id: string): ModelProfile | undefined {
    const r = this.rows.get(id);
    if (!r) return undefined;
    return {
      model_id: id,
      total_calls: r.calls,
      success_count: r.ok,
      fail_count: r.fail,
      success_rate: r.calls === 0 ? null : r.ok / r.calls,
      avg_latency_ms: r.latencyCount === 0 ? 0 : r.latencyTotal / r.latencyCount,
      ema_quality: r.ema,
    };
  }

  profiles(): ModelProfile[] {
    return [...this.rows.keys()].sort().map((id) => this.profile(id)!);
  }
}
