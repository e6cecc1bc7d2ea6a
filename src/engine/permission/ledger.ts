import { closeSync, fsyncSync, mkdirSync, readFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { isTier, type Tier } from './tiers.js';
import { openAppendSync } from '../../util/durable-file.js';

export type ApprovalDecision = 'approved' | 'rejected';

/** One human decision about an operation, keyed by its fingerprint. */
export interface ApprovalRecord {
  fingerprint: string;
  decision: ApprovalDecision;
  /** The tier the reviewer was shown; an approval covers only actions needing at most this. */
  required_tier: Tier;
  /** Who decided, stamped by the server (`agent:<id>` or `conn:<id>`). */
  reviewer: string;
  reason?: string;
  evidence?: unknown;
  /** RFC 3339. */
  recorded_at: string;
}

export interface ApprovalInput {
  fingerprint: string;
  decision: ApprovalDecision;
  required_tier: Tier;
  reviewer: string;
  reason?: string | undefined;
  evidence?: unknown;
}

function asRecord(value: unknown): ApprovalRecord | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const r = value as Record<string, unknown>;
  if (typeof r.fingerprint !== 'string' || r.fingerprint.length === 0) return undefined;
  if (r.decision !== 'approved' && r.decision !== 'rejected') return undefined;
  if (!isTier(r.required_tier) || typeof r.reviewer !== 'string' || typeof r.recorded_at !== 'string') return undefined;
  if (r.reason !== undefined && typeof r.reason !== 'string') return undefined;
  return r as unknown as ApprovalRecord;
}

/**
 * The approval journal: one JSON record per line, appended and fsynced per decision, so a
 * decision acknowledged to the caller survives a crash. The file is read once, on first use; a
 * line that does not parse (a write cut short by a crash, or garbage) is skipped rather than
 * failing the whole ledger, and the next append starts on a fresh line. The latest record for a
 * fingerprint wins. With no path the ledger lives in memory only.
 */
export class ApprovalLedger {
  private byFingerprint: Map<string, ApprovalRecord> | null = null;
  private startWithNewline = false;
  private skipped = 0;

  constructor(readonly path: string | null = null) {}

  /** The standing decision for a fingerprint, if any. */
  get(fingerprint: string): ApprovalRecord | undefined {
    return this.load().get(fingerprint);
  }

  /** Append a decision (durably, when file-backed) and make it the standing one. */
  record(input: ApprovalInput): ApprovalRecord {
    const record: ApprovalRecord = {
      fingerprint: input.fingerprint,
      decision: input.decision,
      required_tier: input.required_tier,
      reviewer: input.reviewer,
      recorded_at: new Date().toISOString(),
    };
    if (input.reason !== undefined) record.reason = input.reason;
    if (input.evidence !== undefined) record.evidence = input.evidence;
    const records = this.load();
    if (this.path !== null) this.append(this.path, record);
    records.delete(record.fingerprint);
    records.set(record.fingerprint, record);
    return record;
  }

  /** Standing decisions, one per fingerprint, least recently recorded first. */
  list(): ApprovalRecord[] {
    return [...this.load().values()];
  }

  get size(): number {
    return this.load().size;
  }

  /** Lines of the file that were not valid records when it was loaded. */
  get skippedLines(): number {
    this.load();
    return this.skipped;
  }

  private load(): Map<string, ApprovalRecord> {
    if (this.byFingerprint !== null) return this.byFingerprint;
    const records = new Map<string, ApprovalRecord>();
    if (this.path !== null) {
      let text = '';
      try {
        text = readFileSync(this.path, 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
      this.startWithNewline = text.length > 0 && !text.endsWith('\n');
      for (const line of text.split('\n')) {
        if (line.trim().length === 0) continue;
        let parsed: ApprovalRecord | undefined;
        try {
          parsed = asRecord(JSON.parse(line));
        } catch {
          parsed = undefined;
        }
        if (parsed === undefined) {
          this.skipped++;
          continue;
        }
        records.delete(parsed.fingerprint); // re-insert so iteration order follows the latest record
        records.set(parsed.fingerprint, parsed);
      }
    }
    this.byFingerprint = records;
    return records;
  }

  private append(path: string, record: ApprovalRecord): void {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    const line = `${this.startWithNewline ? '\n' : ''}${JSON.stringify(record)}\n`;
    const fd = openAppendSync(path);
    try {
      const bytes = Buffer.from(line, 'utf8');
      let written = 0;
      while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    this.startWithNewline = false;
  }
}
