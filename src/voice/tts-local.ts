import { spawn } from 'node:child_process';
import { CarError } from '../util/errors.js';
import { parseWavHeader } from './pcm.js';
import { findProgram } from './programs.js';
import type { ProviderInfo, TtsCallbacks, TtsOptions, TtsProvider } from './types.js';

interface Engine {
  program: string;
  package: string;
  description: string;
  /** Arguments, and the text to write on stdin (null: the text is in the arguments). */
  command(text: string, options: TtsOptions): { args: string[]; stdin: string | null };
  wrap?: boolean;
}

const WRAP = '{ "$0" "$@"; s=$?; [ "$s" -eq 0 ] || echo "car-exit-status $s" >&2; } | cat';
const WRAPPED_FAILURE = /car-exit-status (\d+)/;

/** Flite's 16 kHz voice: the one the 16 kHz recognizer understands word for word. */
export const FLITE_DEFAULT_VOICE = 'kal16';

const FLITE: Engine = {
  program: 'flite',
  package: 'flite',
  description: `CMU Flite (offline, English; voice ${FLITE_DEFAULT_VOICE} by default, 16 kHz) run as a child process`,
  command: (text, o) => {
    const args = ['-voice', o.voice ?? FLITE_DEFAULT_VOICE];
    // Flite's duration stretch: 1 is its normal speed (about 170 words per minute).
    if (o.rate !== undefined) args.push('--setf', `duration_stretch=${(170 / o.rate).toFixed(3)}`);
    return { args: [...args, '-t', text, '-o', '/dev/stdout'], stdin: null };
  },
  // Flite fopen()s its output, which Node's stdio (a socket) cannot be: a pipe through `cat`, and
  // Flite's own exit status reported on stderr.
  wrap: true,
};

const ESPEAK: Engine = {
  program: 'espeak-ng',
  package: 'espeak-ng',
  description: 'eSpeak NG (offline, many languages, 22.05 kHz) run as a child process',
  command: (text, o) => {
    const args = ['--stdout'];
    if (o.voice !== undefined) args.push('-v', o.voice);
    if (o.rate !== undefined) args.push('-s', String(Math.round(o.rate)));
    return { args, stdin: text };
  },
};

/**
 * A synthesizer run as a child process that writes a WAV stream to stdout; the audio is handed
 * on as it arrives, header stripped.
 */
class ProcessTts implements TtsProvider {
  constructor(
    readonly id: string,
    private readonly engines: readonly Engine[],
    private readonly searchPath: readonly string[],
  ) {}

  private pick(): { engine: Engine; path: string } | null {
    for (const engine of this.engines) {
      const path = findProgram(engine.program, this.searchPath);
      if (path !== null) return { engine, path };
    }
    return null;
  }

  info(): ProviderInfo {
    const found = this.pick();
    if (found !== null) return { id: this.id, kind: 'tts', available: true, description: found.engine.description };
    const names = this.engines.map((e) => e.program).join(' or ');
    const packages = this.engines.map((e) => e.package).join(' or ');
    return {
      id: this.id,
      kind: 'tts',
      available: false,
      description: this.engines.map((e) => e.description).join('; or '),
      reason: `${names} not found (Debian package ${packages})`,
    };
  }

  synthesize(text: string, options: TtsOptions, callbacks: TtsCallbacks, signal: AbortSignal): Promise<void> {
    const found = this.pick();
    if (found === null) {
      return Promise.reject(new CarError('unavailable', `TTS provider '${this.id}' is not available: ${this.info().reason}`, { field: 'options.provider' }));
    }
    const { args, stdin } = found.engine.command(text, options);
    const stdio = [stdin === null ? 'ignore' : 'pipe', 'pipe', 'pipe'] as const;
    const child = found.engine.wrap
      ? spawn('/bin/sh', ['-c', WRAP, found.path, ...args], { stdio: [...stdio], detached: true })
      : spawn(found.path, args, { stdio: [...stdio] });
    return new Promise<void>((resolve, reject) => {
      let head: Buffer | null = Buffer.alloc(0);
      let rate = 0;
      let stderr = '';
      let odd: Buffer | null = null;
      const onAbort = (): void => {
        try {
          if (found.engine.wrap && child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
          else child.kill('SIGKILL');
        } catch {
          // already gone
        }
      };
      signal.addEventListener('abort', onAbort, { once: true });
      child.stdout!.on('data', (chunk: Buffer) => {
        if (signal.aborted) return;
        if (head !== null) {
          head = Buffer.concat([head, chunk]);
          const wav = parseWavHeader(head, `${found.engine.program} output`);
          if (wav === null) return;
          rate = wav.sampleRate;
          chunk = head.subarray(wav.dataOffset);
          head = null;
        }
        if (odd !== null) {
          chunk = Buffer.concat([odd, chunk]);
          odd = null;
        }
        if (chunk.length % 2 === 1) {
          odd = Buffer.from(chunk.subarray(chunk.length - 1));
          chunk = chunk.subarray(0, chunk.length - 1);
        }
        if (chunk.length > 0) callbacks.onAudio(chunk, rate);
      });
      child.stderr!.on('data', (d: Buffer) => {
        if (stderr.length < 2048) stderr += d.toString('utf8');
      });
      if (stdin !== null && child.stdin !== null) {
        child.stdin.on('error', () => undefined);
        child.stdin.end(stdin);
      }
      child.once('error', (err) => {
        signal.removeEventListener('abort', onAbort);
        reject(new CarError('unavailable', `${found.engine.program} could not run: ${(err as NodeJS.ErrnoException).code ?? err.message}`));
      });
      child.once('close', (code, sig) => {
        signal.removeEventListener('abort', onAbort);
        if (signal.aborted) reject(signal.reason ?? new CarError('conflict', 'synthesis cancelled'));
        else if (code !== 0 || WRAPPED_FAILURE.test(stderr)) reject(new CarError('unavailable', `${found.engine.program} failed (${WRAPPED_FAILURE.exec(stderr)?.[1] ?? code ?? sig}): ${stderr.replace(WRAPPED_FAILURE, '').trim().slice(0, 500)}`));
        else resolve();
      });
    });
  }
}

/** The TTS providers: `local` (Flite, else eSpeak NG) and each engine by its own name. */
export function localTtsProviders(searchPath: readonly string[]): TtsProvider[] {
  return [new ProcessTts('local', [FLITE, ESPEAK], searchPath), new ProcessTts('flite', [FLITE], searchPath), new ProcessTts('espeak-ng', [ESPEAK], searchPath)];
}
