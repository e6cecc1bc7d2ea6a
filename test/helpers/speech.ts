import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseWavHeader } from '../../src/voice/index.js';
import { tempDir, removeTempDir } from './temp.js';

/**
 * The Debian speech engines the voice tests drive (.ci/run installs them). A test that needs one
 * that is absent skips and names the package.
 */
export const ENGINES = {
  pocketsphinx: existsSync('/usr/bin/pocketsphinx_continuous') && existsSync('/usr/share/pocketsphinx/model/en-us/en-us'),
  flite: existsSync('/usr/bin/flite'),
  espeak: existsSync('/usr/bin/espeak-ng'),
};

/** `skip` option for node:test: false when present, else the reason. */
export function needs(...which: (keyof typeof ENGINES)[]): false | string {
  const missing = which.filter((w) => !ENGINES[w]);
  if (missing.length === 0) return false;
  const pkg = { pocketsphinx: 'pocketsphinx + pocketsphinx-en-us', flite: 'flite', espeak: 'espeak-ng' };
  return `needs the Debian packages ${missing.map((m) => pkg[m]).join(', ')} (.ci/run installs them)`;
}

export const FOX = 'the quick brown fox jumps over the lazy dog';

/** Speech for `text` from Flite's 16 kHz voice, as a WAV file's bytes. */
export function speak(text: string): Buffer {
  const dir = tempDir('car-speech-');
  try {
    const file = join(dir, 'speech.wav');
    execFileSync('/usr/bin/flite', ['-voice', 'kal16', '-t', text, '-o', file]);
    return readFileSync(file);
  } finally {
    removeTempDir(dir);
  }
}

/** The PCM samples of a 16-bit WAV and its format. */
export function pcmOf(wav: Buffer): { pcm: Buffer; sampleRate: number; channels: number } {
  const info = parseWavHeader(wav)!;
  return { pcm: wav.subarray(info.dataOffset, info.dataOffset + info.dataBytes), sampleRate: info.sampleRate, channels: info.channels };
}

/** 16 kHz mono PCM as 48 kHz stereo (each sample repeated, both channels the same). */
export function to48kStereo(pcm16k: Buffer): Buffer {
  const n = pcm16k.length / 2;
  const out = Buffer.alloc(n * 3 * 4);
  for (let i = 0; i < n; i++) {
    const s = pcm16k.readInt16LE(i * 2);
    for (let k = 0; k < 3; k++) {
      out.writeInt16LE(s, (i * 3 + k) * 4);
      out.writeInt16LE(s, (i * 3 + k) * 4 + 2);
    }
  }
  return out;
}

/** Silence: `ms` of 16 kHz mono zeros. */
export function silence(ms: number, rate = 16_000, channels = 1): Buffer {
  return Buffer.alloc(Math.round((rate * ms) / 1000) * 2 * channels);
}

/** Which of `expected`'s words appear in `transcript`. */
export function recovered(expected: string, transcript: string): string[] {
  const heard = new Set(transcript.toLowerCase().split(/\s+/));
  return expected.split(/\s+/).filter((w) => heard.has(w));
}
