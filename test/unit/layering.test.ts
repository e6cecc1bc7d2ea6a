import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import test from 'node:test';
import { fileURLToPath } from 'node:url';

/**
 * The layering of src/, as data: which top-level folders each folder may import from (`.` is the
 * package entry: index.ts and the modules that compose server/ and methods/). A folder's own
 * subfolders belong to it. Every folder under src/ must be listed, so a new one has to say where
 * it sits.
 */
const ENGINES = ['engine', 'memory', 'host', 'registry', 'inference', 'agents', 'multi', 'vision', 'voice', 'a2a', 'a2ui'] as const;
const MAY_IMPORT: Readonly<Record<string, readonly string[]>> = {
  cli: ['.', 'server', 'methods', 'contract', 'dashboard', 'mcp', ...ENGINES, 'rpc', 'transport', 'util'],
  '.': ['server', 'methods', 'contract', 'dashboard', 'client', 'mcp', ...ENGINES, 'rpc', 'transport', 'util'],
  server: ['contract', ...ENGINES, 'rpc', 'transport', 'util'],
  methods: ['contract', ...ENGINES, 'rpc', 'util'],
  contract: [...ENGINES, 'rpc', 'util'],
  dashboard: ['transport', 'util'],
  client: ['engine', 'memory', 'inference', 'multi', 'rpc', 'transport', 'util'],
  engine: ['util'],
  memory: ['util'],
  host: ['util'],
  vision: ['util'],
  // The registry writes its files with memory's atomic writer.
  registry: ['memory', 'util'],
  // Inference hands memory an embedder built on a model.
  inference: ['memory', 'util'],
  // A2A runs its work through a runtime the daemon hands it; its card names A2UI's catalogs.
  a2a: ['a2ui', 'util'],
  // A2UI surfaces and the UI-improvement loop guards, free of JSON-RPC and of A2A.
  a2ui: ['util'],
  voice: ['util'],
  // MCP on the official SDK: tools over the engines, HTTP origin rules from transport; no CAR JSON-RPC.
  mcp: ['engine', 'memory', 'inference', 'transport', 'util'],
  agents: ['util'],
  // The in-daemon agent runner speaks inference's request types.
  multi: ['inference', 'util'],
  rpc: ['transport', 'util'],
  transport: ['util'],
  util: [],
};

const SRC = fileURLToPath(new URL('../../../src/', import.meta.url));
const IMPORT = /(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\s*\(\s*['"]([^'"]+)['"]\s*\)|import\s+['"]([^'"]+)['"]/g;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sources(path);
    return e.name.endsWith('.ts') ? [path] : [];
  });
}

/** The top-level folder of a path under src/, or `.` for files directly in it. */
function folderOf(path: string): string {
  const rel = relative(SRC, path);
  return rel.includes(sep) ? rel.split(sep)[0]! : '.';
}

interface Edge {
  from: string;
  to: string;
  files: string[];
}

function importGraph(): Map<string, Edge> {
  const edges = new Map<string, Edge>();
  for (const file of sources(SRC)) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(IMPORT)) {
      const spec = m[1] ?? m[2] ?? m[3]!;
      if (!spec.startsWith('.')) continue;
      const target = resolve(dirname(file), spec);
      assert.ok(!relative(SRC, target).startsWith('..'), `${relative(SRC, file)} imports outside src/: ${spec}`);
      const from = folderOf(file);
      const to = folderOf(target);
      if (from === to) continue;
      const key = `${from} -> ${to}`;
      const edge = edges.get(key) ?? { from, to, files: [] };
      edge.files.push(relative(SRC, file));
      edges.set(key, edge);
    }
  }
  return edges;
}

/** Folder cycles (strongly connected components of more than one folder). */
function cycles(edges: Iterable<Edge>): string[][] {
  const next = new Map<string, string[]>();
  for (const e of edges) next.set(e.from, [...(next.get(e.from) ?? []), e.to]);
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const out: string[][] = [];
  let counter = 0;
  const visit = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    for (const w of next.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (stack.includes(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1) out.push(scc.sort());
    }
  };
  for (const v of next.keys()) if (!index.has(v)) visit(v);
  return out;
}

test('src/ imports follow the layering: no folder cycle, no upward or sideways import', (t) => {
  const edges = [...importGraph().values()].sort((a, b) => a.from.localeCompare(b.from) || a.to.localeCompare(b.to));
  for (const e of edges) t.diagnostic(`${e.from} -> ${e.to} (${e.files.length} imports)`);

  const folders = new Set(sources(SRC).map(folderOf));
  const unlisted = [...folders].filter((f) => !(f in MAY_IMPORT));
  assert.deepEqual(unlisted, [], `folders with no place in the layering (add them to MAY_IMPORT): ${unlisted.join(', ')}`);

  assert.deepEqual(cycles(edges), [], 'folder import cycles');
  const declared = Object.entries(MAY_IMPORT).flatMap(([from, tos]) => tos.map((to) => ({ from, to, files: [] })));
  assert.deepEqual(cycles(declared), [], 'the declared layering itself has a cycle');

  const forbidden = edges
    .filter((e) => !MAY_IMPORT[e.from]!.includes(e.to))
    .map((e) => `${e.from} -> ${e.to}: ${e.files.join(', ')}`);
  assert.deepEqual(forbidden, [], `imports against the layering:\n${forbidden.join('\n')}`);
});

test('the layering check itself catches a cycle', () => {
  const found = cycles([
    { from: 'server', to: 'methods', files: [] },
    { from: 'methods', to: 'server', files: [] },
    { from: 'methods', to: 'util', files: [] },
  ]);
  assert.deepEqual(found, [['methods', 'server']]);
});
