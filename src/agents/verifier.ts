import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { isObject } from '../util/values.js';

export interface GoalSuggestion {
  suggested: boolean;
  goal: { check: string; max_iterations: number } | null;
  confidence: number;
  rationale: string;
  signals: string[];
  warnings: string[];
}

interface Verifier {
  command: string;
  signal: string;
  confidence: number;
}

/** The project's own verifier, from the files in `dir`, strongest signal first. */
function detect(dir: string): Verifier[] {
  const found: Verifier[] = [];
  const file = (name: string): string | null => {
    const path = join(dir, name);
    if (!existsSync(path)) return null;
    try {
      return readFileSync(path, 'utf8');
    } catch {
      return null;
    }
  };
  const pkg = file('package.json');
  if (pkg !== null) {
    try {
      const json = JSON.parse(pkg) as unknown;
      const test = isObject(json) && isObject(json.scripts) ? json.scripts.test : undefined;
      if (typeof test === 'string' && !/no test specified/.test(test)) {
        found.push({ command: 'npm test', signal: 'package.json scripts.test', confidence: 0.9 });
      }
    } catch {
      // An unreadable package.json is no signal.
    }
  }
  if (file('Cargo.toml') !== null) found.push({ command: 'cargo test', signal: 'Cargo.toml', confidence: 0.85 });
  if (file('go.mod') !== null) found.push({ command: 'go test ./...', signal: 'go.mod', confidence: 0.85 });
  const pyproject = file('pyproject.toml');
  if (file('pytest.ini') !== null || (pyproject !== null && pyproject.includes('[tool.pytest'))) {
    found.push({ command: 'pytest', signal: file('pytest.ini') !== null ? 'pytest.ini' : 'pyproject.toml [tool.pytest]', confidence: 0.8 });
  }
  const makefile = file('Makefile');
  if (makefile !== null && /^test\s*:/m.test(makefile)) found.push({ command: 'make test', signal: 'Makefile test target', confidence: 0.7 });
  return found;
}

/**
 * Suggest a goal for a chat from the project in `workingDir`: its test command must pass. With no
 * verifier found, `suggested: false` and no goal.
 */
export function suggestGoal(objective: string, workingDir: string | undefined, maxIterations: number): GoalSuggestion {
  const warnings: string[] = [];
  if (workingDir === undefined) {
    return { suggested: false, goal: null, confidence: 0, rationale: 'no working_dir was given, so no project verifier could be looked for', signals: [], warnings };
  }
  if (!isAbsolute(workingDir) || !existsSync(workingDir)) {
    warnings.push('working_dir is not an existing absolute directory');
    return { suggested: false, goal: null, confidence: 0, rationale: 'the working directory could not be read', signals: [], warnings };
  }
  const found = detect(workingDir);
  if (found.length === 0) {
    return { suggested: false, goal: null, confidence: 0, rationale: 'no test command or verifier was found in the working directory', signals: [], warnings };
  }
  const best = found[0]!;
  if (found.length > 1) warnings.push(`several verifiers found; using \`${best.command}\``);
  const subject = objective.trim().length > 0 ? ` after: ${objective.trim().slice(0, 200)}` : '';
  return {
    suggested: true,
    goal: { check: `\`${best.command}\` passes in ${workingDir}${subject}`, max_iterations: maxIterations },
    confidence: best.confidence,
    rationale: `the project declares its verifier (${best.signal}); the turn is done when it passes`,
    signals: found.map((v) => v.signal),
    warnings,
  };
}
