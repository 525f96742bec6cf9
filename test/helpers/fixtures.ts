/**
 * Fixture cases: SQL files under fixtures/<rule-id>/ (or folders of files for multi-file runs).
 * - `-- fixture: target=bdr1 runner=flyway include-down option.maxInsertRows=3` on any line sets options;
 * - `-- expect: <rule-id>[, <rule-id>]` on a line says the rule must report a finding starting there;
 * - `-- ok: <rule-id>` marks a trap: the rule must not report on that line.
 * Markers are found by line text, so they also work inside strings (run_on_all_nodes bodies).
 */
import * as fs from 'fs';
import * as path from 'path';
import { lint, LintResult } from '../../src/lint';
import { InputFile } from '../../src/model';
import { RUNNERS } from '../../src/runners';
import { parseTarget } from '../../src/targets';
import { naturalCompare } from '../../src/natural';

export const FIXTURES = path.join(__dirname, '..', '..', 'fixtures');

export interface FixtureCase {
  rule: string;
  name: string;
  files: Array<{ path: string; text: string }>;
  target: string;
  runner: string;
  includeDown: boolean;
  options: Record<string, unknown>;
  /** path -> line -> rule ids expected */
  expect: Map<string, Map<number, Set<string>>>;
  ok: Map<string, Map<number, Set<string>>>;
}

function markers(text: string, word: string): Map<number, Set<string>> {
  const out = new Map<number, Set<string>>();
  text.split(/\r?\n/).forEach((line, i) => {
    const idx = line.indexOf(`-- ${word}:`);
    if (idx === -1) return;
    const ids = line
      .slice(idx + word.length + 4)
      .split(/[,\s]+/)
      .filter((s) => /^[a-z][a-z0-9-]*$/.test(s));
    out.set(i + 1, new Set(ids));
  });
  return out;
}

export function loadCases(rule: string): FixtureCase[] {
  const dir = path.join(FIXTURES, rule);
  if (!fs.existsSync(dir)) return [];
  const cases: FixtureCase[] = [];
  for (const entry of fs.readdirSync(dir).sort(naturalCompare)) {
    const full = path.join(dir, entry);
    let files: Array<{ path: string; text: string }>;
    if (fs.statSync(full).isDirectory()) {
      files = fs
        .readdirSync(full)
        .filter((f) => f.endsWith('.sql'))
        .sort(naturalCompare)
        .map((f) => ({ path: `${entry}/${f}`, text: fs.readFileSync(path.join(full, f), 'utf8') }));
    } else if (entry.endsWith('.sql')) {
      files = [{ path: entry, text: fs.readFileSync(full, 'utf8') }];
    } else continue;
    const c: FixtureCase = { rule, name: entry, files, target: 'pgd5', runner: 'plain', includeDown: false, options: {}, expect: new Map(), ok: new Map() };
    for (const f of files) {
      const m = /-- fixture:([^\n]*)/.exec(f.text);
      if (m) {
        for (const kv of m[1].trim().split(/\s+/)) {
          const [k, v] = kv.split('=');
          if (k === 'target') c.target = v;
          else if (k === 'runner') c.runner = v;
          else if (k === 'include-down') c.includeDown = true;
          else if (k.startsWith('option.')) c.options[k.slice(7)] = v === 'true' ? true : v === 'false' ? false : Number.isNaN(Number(v)) ? v : Number(v);
        }
      }
      c.expect.set(f.path, markers(f.text, 'expect'));
      c.ok.set(f.path, markers(f.text, 'ok'));
    }
    cases.push(c);
  }
  return cases;
}

export function runCase(c: FixtureCase): LintResult {
  const target = parseTarget(c.target);
  if (!target) throw new Error(`bad target in fixture ${c.name}`);
  const inputs: InputFile[] = c.files.map((f) => ({ path: f.path, rel: path.basename(f.path), text: f.text, report: true }));
  return lint(inputs, {
    target,
    runner: RUNNERS[c.runner],
    includeDown: c.includeDown,
    severities: {},
    ruleOptions: { [c.rule]: c.options },
  });
}

/** Lines (per file) where a rule reported an unsuppressed finding. */
export function firedLines(result: LintResult, rule: string): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const f of result.files) {
    out.set(
      f.path,
      f.findings.filter((x) => x.ruleId === rule && !x.suppressed).map((x) => x.line),
    );
  }
  return out;
}
