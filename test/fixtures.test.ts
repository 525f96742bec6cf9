/**
 * Every rule's fixtures: each `-- expect: id` line must get that finding, each `-- ok: id` line
 * must not, and no other line may get a finding of the fixture's rule.
 */
import * as fs from 'fs';
import * as path from 'path';
import { loadParser } from '../src/parser';
import { allMetas } from '../src/registry';
import { FIXTURES, firedLines, loadCases, runCase } from './helpers/fixtures';

beforeAll(loadParser);

const ruleDirs = fs.readdirSync(FIXTURES).filter((d) => fs.statSync(path.join(FIXTURES, d)).isDirectory());

for (const rule of ruleDirs) {
  describe(rule, () => {
    for (const c of loadCases(rule)) {
      test(c.name, () => {
        const result = runCase(c);
        const fired = firedLines(result, rule);
        for (const f of c.files) {
          const got = fired.get(f.path) ?? [];
          const wanted = [...(c.expect.get(f.path) ?? new Map())].filter(([, ids]) => ids.has(rule)).map(([l]) => l);
          // Exact lines of this rule's findings (duplicates collapsed).
          expect({ file: f.path, lines: [...new Set(got)].sort((a, b) => a - b) }).toEqual({ file: f.path, lines: wanted.sort((a, b) => a - b) });
          for (const [line, ids] of c.ok.get(f.path) ?? new Map()) {
            for (const id of ids) {
              const lines = (id === rule ? got : (result.files.find((x) => x.path === f.path)?.findings ?? []).filter((x) => x.ruleId === id && !x.suppressed).map((x) => x.line));
              expect({ file: f.path, trap: line, rule: id, fired: lines.includes(line) }).toEqual({ file: f.path, trap: line, rule: id, fired: false });
            }
          }
          // Findings of other rules that the fixture names with expect markers.
          for (const [line, ids] of c.expect.get(f.path) ?? new Map()) {
            for (const id of ids) {
              if (id === rule) continue;
              const lines = (result.files.find((x) => x.path === f.path)?.findings ?? []).filter((x) => x.ruleId === id && !x.suppressed).map((x) => x.line);
              expect({ file: f.path, line, rule: id, fired: lines.includes(line) }).toEqual({ file: f.path, line, rule: id, fired: true });
            }
          }
        }
      });
    }
  });
}

// The rules the product is known for, and every other contract rule, carry at least four shapes
// that must fire and three traps that must not; the linter's own findings need one of each.
const OWN_FINDINGS = new Set(['syntax-error', 'unused-ignore']);

describe('every rule has fixtures that fire and traps that do not, and a docs page', () => {
  for (const meta of allMetas()) {
    test(meta.id, () => {
      const cases = loadCases(meta.id);
      expect(cases.length).toBeGreaterThan(0);
      let fires = 0;
      let traps = 0;
      for (const c of cases) {
        for (const m of c.expect.values()) for (const ids of m.values()) if (ids.has(meta.id)) fires++;
        for (const m of c.ok.values()) for (const ids of m.values()) if (ids.has(meta.id)) traps++;
      }
      const [minFires, minTraps] = OWN_FINDINGS.has(meta.id) ? [1, 1] : [4, 3];
      expect({ rule: meta.id, fires: fires >= minFires, traps: traps >= minTraps }).toEqual({ rule: meta.id, fires: true, traps: true });
      const page = path.join(__dirname, '..', 'docs', 'rules', `${meta.id}.md`);
      expect({ rule: meta.id, docs: fs.existsSync(page) }).toEqual({ rule: meta.id, docs: true });
      // The docs page has the sections the contract names.
      const text = fs.existsSync(page) ? fs.readFileSync(page, 'utf8') : '';
      const sections = OWN_FINDINGS.has(meta.id) ? [] : ['## Problem', '## Why on PGD/BDR', '## Instead of', '## Use'];
      expect({ rule: meta.id, missing: sections.filter((h) => !text.includes(h)) }).toEqual({ rule: meta.id, missing: [] });
    });
  }
});
