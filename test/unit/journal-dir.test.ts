import assert from 'node:assert/strict';
import { existsSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test, { describe } from 'node:test';
import { JournalDirectory } from '../../src/engine/events/journal-dir.js';
import { EventJournal } from '../../src/engine/events/journal.js';
import { EventLog } from '../../src/engine/event-log.js';
import { tempDir } from '../helpers/temp.js';

function oldJournals(dir: string, names: string[]): void {
  names.forEach((name, i) => {
    const path = join(dir, `${name}.jsonl`);
    writeFileSync(path, '{}\n');
    utimesSync(path, 1_000 + i, 1_000 + i);
  });
}

describe('journalMaxFiles', () => {
  test('a new journal past the bound deletes the oldest ones nobody writes; exactly at the bound nothing goes', (t) => {
    const dir = tempDir(t);
    oldJournals(dir, ['a', 'b', 'c']);
    const journals = new JournalDirectory(dir, 4);
    journals.created(join(dir, 'd.jsonl'));
    writeFileSync(join(dir, 'd.jsonl'), '');
    assert.deepEqual(readdirSync(dir).sort(), ['a.jsonl', 'b.jsonl', 'c.jsonl', 'd.jsonl'], 'at the bound');
    journals.created(join(dir, 'e.jsonl'));
    assert.deepEqual(readdirSync(dir).sort(), ['b.jsonl', 'c.jsonl', 'd.jsonl'], 'one past it: the oldest goes first (e is not written yet)');
    assert.equal(journals.size, 4);
  });

  test('journals being written are never deleted; released ones are swept as soon as there are too many', (t) => {
    const dir = tempDir(t);
    const journals = new JournalDirectory(dir, 1);
    const logs = ['x', 'y', 'z'].map((name) => {
      const path = join(dir, `${name}.jsonl`);
      const log = new EventLog({ journal: new EventJournal(path, { onCreate: () => journals.created(path) }) });
      log.append('A');
      return path;
    });
    assert.equal(readdirSync(dir).length, 3, 'three live connections keep three journals');
    journals.released(logs[1]!);
    assert.deepEqual(readdirSync(dir).sort(), ['x.jsonl', 'z.jsonl']);
    journals.released(logs[0]!);
    journals.released(logs[2]!);
    assert.deepEqual(readdirSync(dir), ['z.jsonl'], 'down to the bound, newest kept');
    assert.equal(existsSync(logs[2]!), true);
  });

  test('reopening an existing journal does not count as a new one', (t) => {
    const dir = tempDir(t);
    oldJournals(dir, ['a']);
    let created = 0;
    new EventLog({ journal: new EventJournal(join(dir, 'a.jsonl'), { onCreate: () => created++ }) }).append('A');
    assert.equal(created, 0);
    new EventLog({ journal: new EventJournal(join(dir, 'b.jsonl'), { onCreate: () => created++ }) }).append('A');
    assert.equal(created, 1);
  });
});
