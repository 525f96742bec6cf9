/**
 * Every suggestion of every finding on every fixture is SQL that the PostgreSQL grammar accepts:
 * users paste it. The exceptions are named: BDR 1's own syntax (`CREATE SEQUENCE ... USING bdr`,
 * and `WITH OIDS`, which PostgreSQL 9.4–11 still take), which is what BDR 1 runs, and `<placeholder>`
 * text where the linter cannot know a name.
 */
import * as fs from 'fs';
import { loadParser, parseSql } from '../src/parser';
import { FIXTURES, loadCases, runCase } from './helpers/fixtures';

/** Suggestion text the grammar need not accept, with the reason. */
function exempt(sql: string): string | undefined {
  if (/\bUSING\s+(bdr|local)\b/i.test(sql)) return 'BDR 1 sequence syntax';
  if (/\bWITH\s+OIDS\b/i.test(sql)) return 'WITH OIDS (PostgreSQL before 12)';
  if (/<[a-z][^<>\n]*>/i.test(sql)) return 'placeholder';
  return undefined;
}

beforeAll(async () => {
  await loadParser();
});

const rules = fs.readdirSync(FIXTURES).filter((d) => fs.statSync(`${FIXTURES}/${d}`).isDirectory());

test('the fixtures give suggestions to check', () => {
  let n = 0;
  for (const rule of rules) for (const c of loadCases(rule)) for (const f of runCase(c).files) n += f.findings.filter((x) => x.suggestion).length;
  expect(n).toBeGreaterThan(200);
});

describe.each(rules)('%s: every suggestion parses', (rule) => {
  test.each(loadCases(rule).map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const bad: string[] = [];
    for (const f of runCase(c).files) {
      for (const x of f.findings) {
        if (!x.suggestion || exempt(x.suggestion)) continue;
        const r = parseSql(x.suggestion);
        if ('message' in r) bad.push(`${f.path}:${x.line} [${x.ruleId}] ${r.message}\n${x.suggestion}`);
      }
    }
    expect(bad).toEqual([]);
  });
});
