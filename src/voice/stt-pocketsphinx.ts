import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { CarError } from '../util/errors.js';
import { findProgram, hasPath } from './programs.js';
import type { ProviderInfo, Segment, SttCallbacks, SttOptions, SttProvider, SttRecognizer } from './types.js';

export const POCKETSPHINX_PROGRAM = 'pocketsphinx_continuous';
/** Where Debian's pocketsphinx-en-us puts the US English model. */
export const DEFAULT_POCKETSPHINX_MODEL_DIR = '/usr/share/pocketsphinx/model/en-us';

/** `<word> <start s> <end s> <confidence>`, one line per word after each hypothesis with `-time yes`. */
const WORD_LINE = /^(\S+) (\d+\.\d+) (\d+\.\d+) (-?\d+(?:\.\d+)?)$/;
const FILLERS = new Set(['<s>', '</s>', '<sil>', '[NOISE]', '[BREATH]', '[COUGH]', '[UM]', '[UH]', '[SMACK]']);

/**
 * The `local` recognizer: CMU PocketSphinx's continuous decoder as a child process, reading raw
 * 16 kHz mono PCM on stdin and printing one hypothesis per utterance (its own voice activity
 * detection splits them), with word times.
 */
export class PocketSphinxStt implements SttProvider {
  readonly id = 'local';

  constructor(
    private readonly searchPath: readonly string[],
    private readonly modelDir: string,
  ) {}

  private locate(): { program: string | null; model: boolean } {
    return { program: findProgram(POCKETSPHINX_PROGRAM, this.searchPath), model: hasPath(join(this.modelDir, 'en-us')) };
  }

  info(): ProviderInfo {
    const { program, model } = this.locate();
    const description = 'CMU PocketSphinx (offline, US English, 16 kHz mono) run as a child process';
    if (program === null) return { id: this.id, kind: 'stt', available: false, description, reason: `${POCKETSPHINX_PROGRAM} not found (Debian package pocketsphinx)` };
    if (!model) return { id: this.id, kind: 'stt', available: false, description, reason: 'the en-us acoustic model is missing (Debian package pocketsphinx-en-us)' };
    return { id: this.id, kind: 'stt', available: true, description };
  }

  start(options: SttOptions, callbacks: SttCallbacks): SttRecognizer {
    const info = this.info();
    if (!info.available) throw new CarError('unavailable', `STT provider '${this.id}' is not available: ${info.reason}`, { field: 'options.provider' });
    if (options.language !== undefined && !/^en([-_]us)?$/i.test(options.language)) {
      throw new CarError('invalid', `STT provider '${this.id}' only recognises en-us, not '${options.language}'`, { field: 'options.language' });
    }
    const program = this.locate().program!;
    const model = this.modelDir;
    const args = ['-infile', '/dev/stdin', '-time', 'yes', '-logfn', '/dev/null', '-hmm', join(model, 'en-us'), '-lm', join(model, 'en-us.lm.bin'), '-dict', join(model, 'cmudict-en-us.dict')];
    // The decoder fopen()s its input, which a socket (Node's stdio) cannot be: `cat` puts a real
    // pipe in between. Its own process group, so that kill() takes both.
    const child = spawn('/bin/sh', ['-c', 'cat | exec "$0" "$@"', program, ...args], { stdio: ['pipe', 'pipe', 'ignore'], detached: true });
    let failed = false;
    const fail = (message: string): void => {
      if (failed) return;
      failed = true;
      callbacks.onError(message);
    };
    child.stdin.on('error', () => {
      // EPIPE after the decoder died; its exit reports why.
    });
    let pending: { words: string[]; start: number; end: number } | null = null;
    const flush = (): void => {
      if (pending === null) return;
      const seg: Segment = { text: pending.words.join(' '), start_ms: Math.round(pending.start * 1000), end_ms: Math.round(pending.end * 1000) };
      pending = null;
      if (seg.text.length > 0) callbacks.onSegment(seg);
    };
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (raw) => {
      const line = raw.trim();
      const word = WORD_LINE.exec(line);
      if (word === null) {
        flush();
        pending = { words: [], start: Number.NaN, end: 0 };
        return;
      }
      if (pending === null) return;
      const [, token, start, end] = word;
      if (token === '</s>') {
        flush();
        return;
      }
      if (FILLERS.has(token!)) return;
      if (Number.isNaN(pending.start)) pending.start = Number(start);
      pending.end = Number(end);
      pending.words.push(token!.replace(/\(\d+\)$/, ''));
    });
    const exited = new Promise<void>((resolve) => {
      child.once('error', (err) => {
        fail(`${POCKETSPHINX_PROGRAM} could not run: ${(err as NodeJS.ErrnoException).code ?? err.message}`);
        resolve();
      });
      lines.once('close', () => {
        if (child.exitCode !== null || child.signalCode !== null) done();
        else child.once('exit', done);
        function done(): void {
          flush();
          if (child.exitCode !== 0 && child.signalCode !== 'SIGKILL') fail(`${POCKETSPHINX_PROGRAM} exited with ${child.exitCode ?? child.signalCode}`);
          resolve();
        }
      });
    });
    let killed = false;
    return {
      write(pcm: Buffer): void {
        if (!killed && child.stdin.writable) child.stdin.write(pcm);
      },
      get backlogBytes(): number {
        return child.stdin.writableLength;
      },
      finish(): Promise<void> {
        if (!child.stdin.writableEnded) child.stdin.end();
        return exited;
      },
      kill(): void {
        killed = true;
        failed = true;
        child.stdin.destroy();
        try {
          if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      },
    };
  }
}
