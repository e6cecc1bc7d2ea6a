import { spawn } from 'node:child_process';
import { CarError } from '../util/errors.js';

/** One recognised line: its text, confidence in [0, 1], and a box normalised to [0, 1] with a bottom-left origin. */
export interface OcrObservation {
  text: string;
  confidence: number;
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface OcrResult {
  available: boolean;
  observations: OcrObservation[];
  /** Which backend ran (`tesseract`), or null when none is reachable. */
  backend: string | null;
  reason?: string;
}

export interface OcrRequest {
  image_path: string;
  languages?: readonly string[] | undefined;
  signal?: AbortSignal | undefined;
}

export interface OcrOptions {
  /** The Tesseract program (a name found on PATH, or a path). */
  program: string;
  /** Longest a recognition may run before it is stopped. */
  timeoutMs: number;
  /** Most bytes of Tesseract output read; more fails the call. */
  maxOutputBytes: number;
}

/** BCP-47 tags mapped to Tesseract's language codes; a code Tesseract knows passes through. */
const LANGUAGES: Readonly<Record<string, string>> = {
  en: 'eng', de: 'deu', fr: 'fra', es: 'spa', it: 'ita', pt: 'por', nl: 'nld', ja: 'jpn', ko: 'kor', ru: 'rus', zh: 'chi_sim', 'zh-hant': 'chi_tra', ar: 'ara',
};

export function tesseractLanguage(tag: string): string {
  const lower = tag.toLowerCase();
  if (/^[a-z]{3}(_[a-z]+)?$/.test(lower)) return lower;
  return LANGUAGES[lower] ?? LANGUAGES[lower.split('-')[0]!] ?? lower;
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  missing: boolean;
}

function run(program: string, args: string[], opts: OcrOptions, signal?: AbortSignal): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { stdio: ['ignore', 'pipe', 'pipe'], signal, timeout: opts.timeoutMs });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let bytes = 0;
    let tooBig = false;
    child.stdout.on('data', (b: Buffer) => {
      bytes += b.length;
      if (bytes > opts.maxOutputBytes) {
        tooBig = true;
        child.kill('SIGKILL');
      } else out.push(b);
    });
    child.stderr.on('data', (b: Buffer) => {
      if (err.reduce((n, x) => n + x.length, 0) < 16 * 1024) err.push(b);
    });
    child.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') resolve({ code: null, stdout: '', stderr: '', missing: true });
      else if (e.name === 'AbortError') reject(new CarError('timeout', 'vision.ocr was cancelled'));
      else reject(new CarError('unavailable', `vision.ocr: ${program} failed to start: ${e.message}`));
    });
    child.on('close', (code, sig) => {
      if (tooBig) return reject(new CarError('limit', `vision.ocr: the recognised text exceeds ${opts.maxOutputBytes} bytes`, { limit: opts.maxOutputBytes }));
      if (sig === 'SIGTERM' && code === null) return reject(new CarError('timeout', `vision.ocr: recognition took longer than ${opts.timeoutMs} ms`));
      resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), missing: false });
    });
  });
}

/**
 * Lines from Tesseract's TSV: words (level 5) grouped by their line (block, paragraph, line),
 * boxes flipped from top-left pixels to a bottom-left unit square using the page size (level 1).
 */
export function parseTesseractTsv(tsv: string): OcrObservation[] {
  let pageW = 0;
  let pageH = 0;
  const lines = new Map<string, { words: string[]; confs: number[]; l: number; t: number; r: number; b: number }>();
  for (const row of tsv.split('\n').slice(1)) {
    const c = row.split('\t');
    if (c.length < 12) continue;
    const [level, , block, par, line, , left, top, width, height, conf] = c.slice(0, 11).map(Number) as number[];
    const text = c.slice(11).join('\t').trim();
    if (level === 1) {
      pageW = width!;
      pageH = height!;
      continue;
    }
    if (level !== 5 || text === '' || !(conf! >= 0)) continue;
    const key = `${block}.${par}.${line}`;
    const entry = lines.get(key) ?? { words: [], confs: [], l: Infinity, t: Infinity, r: -Infinity, b: -Infinity };
    entry.words.push(text);
    entry.confs.push(conf!);
    entry.l = Math.min(entry.l, left!);
    entry.t = Math.min(entry.t, top!);
    entry.r = Math.max(entry.r, left! + width!);
    entry.b = Math.max(entry.b, top! + height!);
    lines.set(key, entry);
  }
  if (pageW <= 0 || pageH <= 0) return [];
  const unit = (v: number): number => Math.round(Math.min(1, Math.max(0, v)) * 1e4) / 1e4;
  return [...lines.values()].map((e) => ({
    text: e.words.join(' '),
    confidence: unit(e.confs.reduce((s, x) => s + x, 0) / e.confs.length / 100),
    x: unit(e.l / pageW),
    y: unit(1 - e.b / pageH),
    w: unit((e.r - e.l) / pageW),
    h: unit((e.b - e.t) / pageH),
  }));
}

/** Text recognition with the Tesseract CLI; `available: false` (never an error) when it is not installed. */
export class OcrService {
  constructor(private readonly options: OcrOptions) {}

  async recognize(req: OcrRequest): Promise<OcrResult> {
    const args = [req.image_path, 'stdout'];
    const langs = (req.languages ?? []).map(tesseractLanguage).filter((l) => /^[a-z_]+$/.test(l));
    if (langs.length > 0) args.push('-l', langs.join('+'));
    args.push('tsv');
    const result = await run(this.options.program, args, this.options, req.signal);
    if (result.missing) {
      return { available: false, observations: [], backend: null, reason: `no OCR backend: '${this.options.program}' (Tesseract) is not installed` };
    }
    if (result.code !== 0) {
      const why = result.stderr.trim().split('\n').slice(-3).join(' ');
      throw new CarError('invalid', `vision.ocr could not read ${JSON.stringify(req.image_path)}: ${why || `tesseract exited with ${result.code}`}`, {
        field: 'image_path',
      });
    }
    return { available: true, observations: parseTesseractTsv(result.stdout), backend: 'tesseract' };
  }
}
