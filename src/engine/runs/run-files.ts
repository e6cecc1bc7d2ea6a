import { mkdir, readdir, readFile } from 'node:fs/promises';
import { openAppend } from '../../util/durable-file.js';
import { join } from 'node:path';
import type { RunRecord, RunStatus, RunSummary } from './types.js';

/**
 * A path segment for an agent id or run id: unreserved characters stay readable, everything else
 * (separators, `%`, a leading dot) is percent-encoded, so no id can leave its directory.
 */
export function fileSegment(id: string): string {
  let out = '';
  for (const ch of id) {
    out += /^[A-Za-z0-9_:@+=,-]$/.test(ch) || (ch === '.' && out.length > 0) ? ch : encodeURIComponent(ch).replace(/\./g, '%2E');
  }
  return out;
}

/** JSONL run traces under `<root>/<agent_id>/<run_id>.jsonl`; every append is fsynced. */
export class RunFiles {
  constructor(readonly root: string) {}

  pathOf(agentId: string, runId: string): string {
    return join(this.root, fileSegment(agentId), `${fileSegment(runId)}.jsonl`);
  }

  /** Append records as lines and fsync before resolving. */
  async append(agentId: string, runId: string, records: readonly RunRecord[]): Promise<void> {
    const dir = join(this.root, fileSegment(agentId));
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const { fh } = await openAppend(this.pathOf(agentId, runId));
    try {
      await fh.writeFile(records.map((r) => JSON.stringify(r) + '\n').join(''));
      await fh.sync();
    } finally {
      await fh.close();
    }
  }

  /** The records of one run, or null when its file does not exist. A torn last line is skipped. */
  async read(agentId: string, runId: string): Promise<RunRecord[] | null> {
    return readRecords(this.pathOf(agentId, runId));
  }

  /** Find a run by id when its agent is unknown (after a restart). */
  async find(runId: string): Promise<{ agentId: string; records: RunRecord[] } | null> {
    let agents: string[];
    try {
      agents = await readdir(this.root);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    const name = `${fileSegment(runId)}.jsonl`;
    for (const dir of agents) {
      const records = await readRecords(join(this.root, dir, name));
      if (records !== null && records[0]?.kind === 'started') return { agentId: records[0].agent_id, records };
    }
    return null;
  }

  /** Every stored run whose trace has no `ended` record. */
  async *unfinished(): AsyncGenerator<{ agentId: string; runId: string; records: RunRecord[] }> {
    let agents: string[];
    try {
      agents = await readdir(this.root);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    for (const dir of agents) {
      let names: string[];
      try {
        names = await readdir(join(this.root, dir));
      } catch {
        continue;
      }
      for (const name of names) {
        if (!name.endsWith('.jsonl')) continue;
        const records = await readRecords(join(this.root, dir, name));
        const started = records?.[0];
        if (records === null || started?.kind !== 'started' || statusOf(records) !== 'in_progress') continue;
        yield { agentId: started.agent_id, runId: started.run_id, records };
      }
    }
  }

  /** Summaries of every run of one agent, newest first. */
  async list(agentId: string): Promise<RunSummary[]> {
    const dir = join(this.root, fileSegment(agentId));
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const out: RunSummary[] = [];
    for (const name of names) {
      if (!name.endsWith('.jsonl')) continue;
      const records = await readRecords(join(dir, name));
      const summary = records === null ? null : summarize(records);
      if (summary !== null) out.push(summary);
    }
    return sortNewestFirst(out);
  }
}

async function readRecords(path: string): Promise<RunRecord[] | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  const records: RunRecord[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      records.push(JSON.parse(line) as RunRecord);
    } catch {
      // a line torn by a crash mid-append
    }
  }
  return records;
}

export function statusOf(records: readonly RunRecord[]): RunStatus {
  for (let i = records.length - 1; i >= 0; i--) {
    const r = records[i]!;
    if (r.kind === 'ended') return r.status;
  }
  return 'in_progress';
}

export function summarize(records: readonly RunRecord[]): RunSummary | null {
  const started = records[0];
  if (started?.kind !== 'started') return null;
  const ended = records.find((r) => r.kind === 'ended');
  const summary: RunSummary = {
    run_id: started.run_id,
    agent_id: started.agent_id,
    intent: started.intent,
    started_at: started.started_at,
    status: statusOf(records),
    turn_count: records.filter((r) => r.kind === 'turn').length,
  };
  if (ended?.kind === 'ended') summary.ended_at = ended.ended_at;
  return summary;
}

export function sortNewestFirst(runs: RunSummary[]): RunSummary[] {
  return runs.sort((a, b) =>
    a.started_at === b.started_at ? (a.run_id < b.run_id ? 1 : -1) : a.started_at < b.started_at ? 1 : -1,
  );
}
