import { CarError } from '../util/errors.js';

/** What the local recognizer takes: 16 kHz, mono, signed 16-bit little-endian. */
export const STT_SAMPLE_RATE = 16_000;

export interface WavInfo {
  sampleRate: number;
  channels: number;
  bitsPerSample: number;
  /** Offset of the first sample. */
  dataOffset: number;
  /** Bytes of sample data the header announces (streamed WAVs announce more than they hold). */
  dataBytes: number;
}

/**
 * Read a RIFF/WAVE header up to its `data` chunk. Returns null while `buf` is too short to tell;
 * throws when it is not 16-bit PCM WAV.
 */
export function parseWavHeader(buf: Buffer, what = 'audio'): WavInfo | null {
  if (buf.length < 12) return null;
  if (buf.toString('latin1', 0, 4) !== 'RIFF' || buf.toString('latin1', 8, 12) !== 'WAVE') {
    throw new CarError('invalid', `${what} is not a WAV file (no RIFF/WAVE header)`);
  }
  let at = 12;
  let fmt: Omit<WavInfo, 'dataOffset' | 'dataBytes'> | null = null;
  while (at + 8 <= buf.length) {
    const id = buf.toString('latin1', at, at + 4);
    const size = buf.readUInt32LE(at + 4);
    if (id === 'data') {
      if (fmt === null) throw new CarError('invalid', `${what}: WAV data chunk before its fmt chunk`);
      return { ...fmt, dataOffset: at + 8, dataBytes: size };
    }
    if (id === 'fmt ') {
      if (at + 8 + 16 > buf.length) return null;
      const audioFormat = buf.readUInt16LE(at + 8);
      const channels = buf.readUInt16LE(at + 10);
      const sampleRate = buf.readUInt32LE(at + 12);
      const bitsPerSample = buf.readUInt16LE(at + 22);
      if ((audioFormat !== 1 && audioFormat !== 0xfffe) || bitsPerSample !== 16) {
        throw new CarError('invalid', `${what}: only 16-bit PCM WAV is supported (format ${audioFormat}, ${bitsPerSample} bits)`);
      }
      if (channels < 1 || sampleRate < 1) throw new CarError('invalid', `${what}: WAV header has ${channels} channels at ${sampleRate} Hz`);
      fmt = { sampleRate, channels, bitsPerSample };
    }
    at += 8 + size + (size % 2);
  }
  return null;
}

/** A canonical 44-byte header for 16-bit PCM. */
export function wavHeader(sampleRate: number, channels: number, dataBytes: number): Buffer {
  const h = Buffer.alloc(44);
  h.write('RIFF', 0, 'latin1');
  h.writeUInt32LE(36 + dataBytes, 4);
  h.write('WAVEfmt ', 8, 'latin1');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20);
  h.writeUInt16LE(channels, 22);
  h.writeUInt32LE(sampleRate, 24);
  h.writeUInt32LE(sampleRate * channels * 2, 28);
  h.writeUInt16LE(channels * 2, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36, 'latin1');
  h.writeUInt32LE(dataBytes, 40);
  return h;
}

/**
 * Streaming conversion of interleaved s16le PCM at any rate and channel count to 16 kHz mono:
 * channels are averaged, then the signal is resampled by linear interpolation after a moving
 * average as wide as the decimation ratio (a cheap anti-alias filter). State carries across chunks,
 * so chunk boundaries (even mid-sample) make no difference.
 */
export class PcmConverter {
  private readonly ratio: number;
  private readonly frameBytes: number;
  private readonly taps: number;
  private carry: Buffer = Buffer.alloc(0);
  /** Position of the next output sample, in input samples relative to the current chunk. */
  private pos = 0;
  private prev = 0;
  private readonly history: number[] = [];
  private historySum = 0;

  constructor(
    readonly inputRate: number,
    readonly channels: number,
  ) {
    this.ratio = inputRate / STT_SAMPLE_RATE;
    this.frameBytes = channels * 2;
    this.taps = Math.max(1, Math.round(this.ratio));
  }

  get passthrough(): boolean {
    return this.inputRate === STT_SAMPLE_RATE && this.channels === 1;
  }

  push(chunk: Buffer): Buffer {
    if (this.passthrough && this.carry.length === 0 && chunk.length % 2 === 0) return chunk;
    const data = this.carry.length > 0 ? Buffer.concat([this.carry, chunk]) : chunk;
    const frames = Math.floor(data.length / this.frameBytes);
    this.carry = Buffer.from(data.subarray(frames * this.frameBytes));
    if (frames === 0) return Buffer.alloc(0);
    const mono = new Float64Array(frames);
    for (let f = 0; f < frames; f++) {
      let sum = 0;
      for (let c = 0; c < this.channels; c++) sum += data.readInt16LE(f * this.frameBytes + c * 2);
      mono[f] = this.smooth(sum / this.channels);
    }
    if (this.ratio === 1) return toS16(mono);
    const out: number[] = [];
    let p = this.pos;
    while (Math.floor(p) + 1 <= frames - 1) {
      const i = Math.floor(p);
      const frac = p - i;
      const a = i < 0 ? this.prev : mono[i]!;
      out.push(a + (mono[i + 1]! - a) * frac);
      p += this.ratio;
    }
    this.pos = p - frames;
    this.prev = mono[frames - 1]!;
    return toS16(out);
  }

  private smooth(x: number): number {
    if (this.taps === 1) return x;
    this.history.push(x);
    this.historySum += x;
    if (this.history.length > this.taps) this.historySum -= this.history.shift()!;
    return this.historySum / this.history.length;
  }
}

function toS16(samples: ArrayLike<number>): Buffer {
  const out = Buffer.allocUnsafe(samples.length * 2);
  for (let i = 0; i < samples.length; i++) {
    out.writeInt16LE(Math.max(-32768, Math.min(32767, Math.round(samples[i]!))), i * 2);
  }
  return out;
}
