/**
 * SplitMix64 (Steele, Lea, Flood 2014) on two 32-bit halves, so a draw allocates nothing.
 * The same seed always yields the same sequence.
 */

const GAMMA_HI = 0x9e3779b9;
const GAMMA_LO = 0x7f4a7c15;
const M1_HI = 0xbf58476d;
const M1_LO = 0x1ce4e5b9;
const M2_HI = 0x94d049bb;
const M2_LO = 0x133111eb;
const TWO_POW_32 = 0x1_0000_0000;

export class SplitMix64 {
  private hi: number;
  private lo: number;
  /** Halves of the last 64-bit output. */
  private outHi = 0;
  private outLo = 0;

  /** `seed` is taken modulo 2^64; a number must be a non-negative safe integer. */
  constructor(seed: number | bigint) {
    const s = BigInt.asUintN(64, typeof seed === 'bigint' ? seed : BigInt(seed));
    this.hi = Number(s >> 32n);
    this.lo = Number(s & 0xffffffffn);
  }

  /** (hi, lo) × (bhi, blo) mod 2^64 into outHi/outLo. */
  private mul(hi: number, lo: number, bhi: number, blo: number): void {
    const a0 = lo & 0xffff;
    const a1 = lo >>> 16;
    const b0 = blo & 0xffff;
    const b1 = blo >>> 16;
    const p00 = a0 * b0;
    const p01 = a0 * b1;
    const p10 = a1 * b0;
    const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
    this.outLo = (((mid & 0xffff) << 16) | (p00 & 0xffff)) >>> 0;
    const carry = a1 * b1 + (p01 >>> 16) + (p10 >>> 16) + Math.floor(mid / 0x10000);
    this.outHi = (carry + Math.imul(hi, blo) + Math.imul(lo, bhi)) >>> 0;
  }

  /** Advance and leave the next 64-bit output in outHi/outLo. */
  private step(): void {
    const lo = this.lo + GAMMA_LO;
    this.lo = lo >>> 0;
    this.hi = (this.hi + GAMMA_HI + (lo >= TWO_POW_32 ? 1 : 0)) >>> 0;
    let hi = this.hi;
    let lo2 = this.lo;
    // z = (z ^ (z >>> 30)) * M1
    lo2 = (lo2 ^ ((lo2 >>> 30) | (hi << 2))) >>> 0;
    hi = (hi ^ (hi >>> 30)) >>> 0;
    this.mul(hi, lo2, M1_HI, M1_LO);
    hi = this.outHi;
    lo2 = this.outLo;
    // z = (z ^ (z >>> 27)) * M2
    lo2 = (lo2 ^ ((lo2 >>> 27) | (hi << 5))) >>> 0;
    hi = (hi ^ (hi >>> 27)) >>> 0;
    this.mul(hi, lo2, M2_HI, M2_LO);
    hi = this.outHi;
    lo2 = this.outLo;
    // z ^ (z >>> 31)
    this.outLo = (lo2 ^ ((lo2 >>> 31) | (hi << 1))) >>> 0;
    this.outHi = (hi ^ (hi >>> 31)) >>> 0;
  }

  /** The next raw 64-bit output. */
  nextBigInt(): bigint {
    this.step();
    return (BigInt(this.outHi) << 32n) | BigInt(this.outLo);
  }

  /** A uniform double in [0, 1) from the top 53 bits of the next output. */
  nextFloat(): number {
    this.step();
    return (this.outHi * 0x200000 + (this.outLo >>> 11)) / 0x20_0000_0000_0000;
  }
}
