import type { FileHandle } from 'node:fs/promises';
import { appendDurable, openAppend, renameDurable } from '../util/durable-file.js';
import { CarError } from '../util/errors.js';

/**
 * `peer-messages.jsonl`: one JSON line per inbound peer message, on disk (fdatasync) before the
 * message is acknowledged. The file is 0600. Once the next line would take it past `maxBytes`
 * it is renamed to `<path>.1` (replacing the older generation) and a new file is begun, so the
 * log never holds more than twice its bound.
 */
export class PeerMessageLog {
  private fh: FileHandle | undefined;
  private size = 0;
  private tail: Promise<void> = Promise.resolve();

  constructor(
    readonly path: string | null,
    readonly maxBytes: number,
  ) {}

  /** Append `record` as one line; resolves once it is durable. Appends are written in call order. */
  append(record: Record<string, unknown>): Promise<void> {
    const line = Buffer.from(`${JSON.stringify(record)}\n`, 'utf8');
    if (line.length > this.maxBytes) {
      return Promise.reject(new CarError('limit', `the peer message takes ${line.length} bytes in the log, over its ${this.maxBytes}-byte bound`, { limit: this.maxBytes }));
    }
    const next = this.tail.then(() => this.write(line));
    this.tail = next.catch(() => undefined);
    return next;
  }

  private async write(line: Buffer): Promise<void> {
    const path = this.path;
    if (path === null) return;
    try {
      if (this.fh === undefined) {
        this.fh = (await openAppend(path)).fh;
        this.size = (await this.fh.stat()).size;
      }
      if (this.size > 0 && this.size + line.length > this.maxBytes) {
        await this.fh.close();
        this.fh = undefined;
        await renameDurable(path, `${path}.1`);
        this.fh = (await openAppend(path)).fh;
        this.size = 0;
      }
      await appendDurable(this.fh, line);
      this.size += line.length;
    } catch (err) {
      // The file is re-opened (and its size read again) by the next append.
      await this.fh?.close().catch(() => undefined);
      this.fh = undefined;
      throw err;
    }
  }

  async close(): Promise<void> {
    await this.tail;
    await this.fh?.close();
    this.fh = undefined;
  }
}
