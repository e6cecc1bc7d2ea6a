import { CarError } from '../util/errors.js';

/**
 * CAR binary frames: a 26-byte little-endian header (type, 16-byte UUID, u64 sequence, format)
 * and the payload. Audio travels this way instead of base64 inside JSON.
 */
export const FRAME_HEADER_BYTES = 26;

export const FrameType = {
  /** Client → daemon: PCM for a `pcm_push` transcription session. */
  PcmIn: 0x01,
  /** Daemon → client: one chunk of synthesized audio. */
  TtsChunk: 0x02,
  /** Daemon → client: the synthesis stream ended (empty payload). */
  TtsEnd: 0x03,
  /** Daemon → client: the synthesis stream failed (UTF-8 message). */
  TtsError: 0x04,
} as const;
export type FrameTypeCode = (typeof FrameType)[keyof typeof FrameType];

/** Payload encodings a `TtsChunk` frame may name; every other frame type carries 0. */
export const AudioFormat = { PcmS16le: 0x00, Mp3: 0x01, Wav: 0x02 } as const;
export type AudioFormatCode = (typeof AudioFormat)[keyof typeof AudioFormat];

const FORMAT_NAMES: Record<AudioFormatCode, string> = { 0: 'pcm_s16le', 1: 'mp3', 2: 'wav' };
export function audioFormatName(code: AudioFormatCode): string {
  return FORMAT_NAMES[code];
}

export interface BinaryFrame {
  type: FrameTypeCode;
  /** The stream or session id: the UUID as 32 lowercase hex digits. */
  id: string;
  seq: bigint;
  format: AudioFormatCode;
  payload: Uint8Array;
}

const HEX_ID = /^[0-9a-f]{32}$/;

/** True when `id` can travel in a binary frame header (32 lowercase hex digits, no dashes). */
export function isFrameId(id: string): boolean {
  return HEX_ID.test(id);
}

export function encodeFrame(frame: BinaryFrame): Buffer {
  if (!isFrameId(frame.id)) throw new CarError('invalid', `binary frame id must be 32 lowercase hex digits, got '${frame.id}'`);
  if (frame.seq < 0n || frame.seq > 0xffff_ffff_ffff_ffffn) throw new CarError('invalid', 'binary frame seq must fit in a u64');
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + frame.payload.byteLength);
  out[0] = frame.type;
  out.write(frame.id, 1, 16, 'hex');
  out.writeBigUInt64LE(frame.seq, 17);
  out[25] = frame.type === FrameType.TtsChunk ? frame.format : 0;
  out.set(frame.payload, FRAME_HEADER_BYTES);
  return out;
}

/** Why an inbound frame was refused; `id` is set once the header was long enough to carry one. */
export class FrameError extends CarError {
  constructor(
    message: string,
    readonly frameId: string | null,
  ) {
    super('invalid', `binary frame: ${message}`, { detail: frameId === null ? {} : { session_id: frameId } });
  }
}

/** Parse a frame a client sent. Only PCM frames may come in. Throws `FrameError`. */
export function decodeInboundFrame(data: Uint8Array): BinaryFrame {
  if (data.byteLength < FRAME_HEADER_BYTES) {
    throw new FrameError(`${data.byteLength} bytes is shorter than the ${FRAME_HEADER_BYTES}-byte header`, null);
  }
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const id = buf.toString('hex', 1, 17);
  const type = buf[0]!;
  if (type !== FrameType.PcmIn) {
    const known = type >= FrameType.TtsChunk && type <= FrameType.TtsError;
    throw new FrameError(known ? `type 0x0${type} only flows from the daemon to clients` : `unknown type 0x${type.toString(16).padStart(2, '0')}`, id);
  }
  const format = buf[25]!;
  if (format !== 0) throw new FrameError(`format byte must be 0 for PCM frames, got ${format}`, id);
  const payload = buf.subarray(FRAME_HEADER_BYTES);
  if (payload.byteLength % 2 !== 0) throw new FrameError('PCM payload must be whole 16-bit samples', id);
  return { type, id, seq: buf.readBigUInt64LE(17), format: 0, payload };
}

/** Parse any frame (the client side's view, and tests). Throws `FrameError`. */
export function decodeFrame(data: Uint8Array): BinaryFrame {
  if (data.byteLength < FRAME_HEADER_BYTES) {
    throw new FrameError(`${data.byteLength} bytes is shorter than the ${FRAME_HEADER_BYTES}-byte header`, null);
  }
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const type = buf[0]!;
  const id = buf.toString('hex', 1, 17);
  if (type < FrameType.PcmIn || type > FrameType.TtsError) throw new FrameError(`unknown type 0x${type.toString(16).padStart(2, '0')}`, id);
  const format = buf[25]!;
  if (format > AudioFormat.Wav) throw new FrameError(`unknown format ${format}`, id);
  return { type: type as FrameTypeCode, id, seq: buf.readBigUInt64LE(17), format: format as AudioFormatCode, payload: buf.subarray(FRAME_HEADER_BYTES) };
}
