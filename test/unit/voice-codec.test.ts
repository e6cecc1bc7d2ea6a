import assert from 'node:assert/strict';
import test, { describe } from 'node:test';
import { AudioFormat, decodeFrame, decodeInboundFrame, encodeFrame, FRAME_HEADER_BYTES, FrameError, FrameType, isFrameId, parseWavHeader, PcmConverter, wavHeader } from '../../src/voice/index.js';

const ID = '00112233445566778899aabbccddeeff';

describe('binary frame codec', () => {
  test('the header is 26 bytes: type, raw UUID, u64 LE seq, format; then the payload', () => {
    const payload = Buffer.from([9, 8, 7, 6]);
    const frame = encodeFrame({ type: FrameType.TtsChunk, id: ID, seq: 0x0102030405060708n, format: AudioFormat.Wav, payload });
    assert.equal(FRAME_HEADER_BYTES, 26);
    assert.equal(frame.length, 30);
    assert.equal(frame[0], 0x02);
    assert.equal(frame.subarray(1, 17).toString('hex'), ID);
    assert.deepEqual([...frame.subarray(17, 25)], [8, 7, 6, 5, 4, 3, 2, 1]);
    assert.equal(frame[25], 0x02);
    assert.deepEqual(frame.subarray(26), payload);
    const back = decodeFrame(frame);
    assert.deepEqual({ ...back, payload: Buffer.from(back.payload) }, { type: 2, id: ID, seq: 0x0102030405060708n, format: 2, payload });
  });

  test('every type and format code; the format byte is 0 on every type but 0x02', () => {
    assert.deepEqual(FrameType, { PcmIn: 1, TtsChunk: 2, TtsEnd: 3, TtsError: 4 });
    assert.deepEqual(AudioFormat, { PcmS16le: 0, Mp3: 1, Wav: 2 });
    for (const type of [FrameType.PcmIn, FrameType.TtsEnd, FrameType.TtsError]) {
      const f = encodeFrame({ type, id: ID, seq: 1n, format: AudioFormat.Mp3, payload: Buffer.alloc(0) });
      assert.equal(f[25], 0);
      assert.equal(f.length, 26);
    }
    const err = encodeFrame({ type: FrameType.TtsError, id: ID, seq: 3n, format: 0, payload: Buffer.from('boom') });
    assert.equal(decodeFrame(err).payload.toString(), 'boom');
  });

  test('seq covers the whole u64 range', () => {
    const max = encodeFrame({ type: FrameType.PcmIn, id: ID, seq: 2n ** 64n - 1n, format: 0, payload: Buffer.alloc(2) });
    assert.equal(decodeInboundFrame(max).seq, 2n ** 64n - 1n);
    assert.throws(() => encodeFrame({ type: FrameType.PcmIn, id: ID, seq: 2n ** 64n, format: 0, payload: Buffer.alloc(0) }), /u64/);
    assert.throws(() => encodeFrame({ type: FrameType.PcmIn, id: ID, seq: -1n, format: 0, payload: Buffer.alloc(0) }), /u64/);
  });

  test('ids are the UUID as 32 lowercase hex digits, no dashes', () => {
    assert.equal(isFrameId(ID), true);
    assert.equal(isFrameId(ID.toUpperCase()), false);
    assert.equal(isFrameId('00112233-4455-6677-8899-aabbccddeeff'), false);
    assert.equal(isFrameId(ID.slice(1)), false);
    assert.throws(() => encodeFrame({ type: 1, id: 'nope', seq: 0n, format: 0, payload: Buffer.alloc(0) }), /32 lowercase hex/);
  });

  test('inbound: a PCM frame decodes; its payload is a view of the frame', () => {
    const pcm = Buffer.from([1, 0, 2, 0]);
    const f = decodeInboundFrame(encodeFrame({ type: FrameType.PcmIn, id: ID, seq: 7n, format: 0, payload: pcm }));
    assert.equal(f.type, FrameType.PcmIn);
    assert.equal(f.id, ID);
    assert.equal(f.seq, 7n);
    assert.deepEqual(Buffer.from(f.payload), pcm);
  });

  test('inbound: short, unknown type, outbound-only types, bad format and odd payloads are refused by name', () => {
    const refuse = (bytes: Buffer, re: RegExp, id: string | null): void => {
      assert.throws(
        () => decodeInboundFrame(bytes),
        (err: unknown) => err instanceof FrameError && re.test(err.message) && err.frameId === id && err.kind === 'invalid',
      );
    };
    refuse(Buffer.alloc(0), /0 bytes is shorter than the 26-byte header/, null);
    refuse(Buffer.alloc(25), /25 bytes is shorter/, null);
    const good = encodeFrame({ type: FrameType.PcmIn, id: ID, seq: 0n, format: 0, payload: Buffer.alloc(4) });
    const withType = (t: number): Buffer => Buffer.concat([Buffer.from([t]), good.subarray(1)]);
    refuse(withType(0x00), /unknown type 0x00/, ID);
    refuse(withType(0x7f), /unknown type 0x7f/, ID);
    refuse(withType(0x02), /type 0x02 only flows from the daemon/, ID);
    refuse(withType(0x04), /type 0x04 only flows from the daemon/, ID);
    const badFormat = Buffer.from(good);
    badFormat[25] = 1;
    refuse(badFormat, /format byte must be 0/, ID);
    refuse(Buffer.concat([good, Buffer.from([1])]), /whole 16-bit samples/, ID);
    assert.throws(() => decodeFrame(Buffer.concat([Buffer.from([9]), good.subarray(1)])), /unknown type 0x09/);
  });
});

describe('PCM helpers', () => {
  test('a WAV header round-trips; non-PCM and non-WAV are refused', () => {
    const h = wavHeader(22050, 2, 1000);
    assert.deepEqual(parseWavHeader(Buffer.concat([h, Buffer.alloc(1000)])), { sampleRate: 22050, channels: 2, bitsPerSample: 16, dataOffset: 44, dataBytes: 1000 });
    assert.equal(parseWavHeader(h.subarray(0, 20)), null);
    assert.throws(() => parseWavHeader(Buffer.from('not a wav file at all, really')), /not a WAV file/);
    const float = Buffer.from(h);
    float.writeUInt16LE(3, 20);
    assert.throws(() => parseWavHeader(float), /only 16-bit PCM/);
  });

  test('16 kHz mono passes through; 48 kHz stereo becomes 16 kHz mono whatever the chunking', () => {
    const mono = new PcmConverter(16000, 1);
    const data = Buffer.from([1, 0, 2, 0]);
    assert.equal(mono.push(data), data);
    const n = 4800; // 0.1 s at 48 kHz
    const stereo = Buffer.alloc(n * 4);
    for (let i = 0; i < n; i++) {
      const v = Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 48000));
      stereo.writeInt16LE(v, i * 4);
      stereo.writeInt16LE(v, i * 4 + 2);
    }
    const whole = new PcmConverter(48000, 2).push(stereo);
    const split = new PcmConverter(48000, 2);
    const parts: Buffer[] = [];
    for (let at = 0; at < stereo.length; at += 333) parts.push(split.push(stereo.subarray(at, at + 333)));
    const joined = Buffer.concat(parts);
    assert.ok(Math.abs(whole.length / 2 - 1600) <= 2, `about 1600 samples, got ${whole.length / 2}`);
    assert.deepEqual(joined, whole);
    // A 440 Hz tone survives (the moving average barely touches it).
    let peak = 0;
    for (let i = 0; i < whole.length / 2; i++) peak = Math.max(peak, Math.abs(whole.readInt16LE(i * 2)));
    assert.ok(peak > 7000 && peak <= 8000, `peak ${peak}`);
  });
});
