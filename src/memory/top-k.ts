/** The `k` highest scores seen, in a bounded min-heap over parallel arrays. */
export class TopK {
  private readonly ix: Int32Array;
  private readonly score: Float64Array;
  private size = 0;

  constructor(private readonly k: number) {
    this.ix = new Int32Array(Math.max(1, k));
    this.score = new Float64Array(Math.max(1, k));
  }

  private less(i: number, j: number): boolean {
    const a = this.score[i]!;
    const b = this.score[j]!;
    return a < b || (a === b && this.ix[i]! > this.ix[j]!);
  }

  private swap(i: number, j: number): void {
    const ix = this.ix[i]!;
    this.ix[i] = this.ix[j]!;
    this.ix[j] = ix;
    const sc = this.score[i]!;
    this.score[i] = this.score[j]!;
    this.score[j] = sc;
  }

  offer(ix: number, score: number): void {
    if (this.k <= 0) return;
    if (this.size < this.k) {
      let i = this.size++;
      this.ix[i] = ix;
      this.score[i] = score;
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if (!this.less(i, parent)) break;
        this.swap(i, parent);
        i = parent;
      }
      return;
    }
    if (score < this.score[0]! || (score === this.score[0]! && ix > this.ix[0]!)) return;
    this.ix[0] = ix;
    this.score[0] = score;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < this.size && this.less(l, m)) m = l;
      if (r < this.size && this.less(r, m)) m = r;
      if (m === i) break;
      this.swap(i, m);
      i = m;
    }
  }

  drain(): { ix: number; score: number }[] {
    const out: { ix: number; score: number }[] = [];
    for (let i = 0; i < this.size; i++) out.push({ ix: this.ix[i]!, score: this.score[i]! });
    return out;
  }
}
