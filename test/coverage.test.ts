/**
 * docs/coverage.md maps every restricted, rejected or non-replicated row of the PGD/BDR spec to the
 * rule and the fixture lines that cover it. This test keeps the page and the fixtures in step: every
 * fixture link must name an existing file and line, and that line must carry the marker of the rule
 * whose folder holds the fixture (`-- expect: <rule>`, or `-- ok: <rule>` for links whose text starts
 * with "ok"); the rule must be named in the row; every row names a known rule or says why nothing
 * can check it.
 */
import * as fs from 'fs';
import * as path from 'path';
import { allMetas } from '../src/registry';

const ROOT = path.join(__dirname, '..');
const DOC = path.join(ROOT, 'docs', 'coverage.md');

/** A link to a fixture line: [text](../fixtures/<rule>/<file>#L<n>). */
const LINK = /\[([^\]]*)\]\(\.\.\/fixtures\/([a-z0-9-]+)\/([^)#\s]+)#L(\d+)\)/g;

interface Row {
  /** 1-based line of the row in the page. */
  line: number;
  cells: string[];
}

/** The rows of every table of the page whose header has a "rule" column. */
function tableRows(markdown: string): Array<Row & { ruleCol: number }> {
  const out: Array<Row & { ruleCol: number }> = [];
  const lines = markdown.split(/\r?\n/);
  let ruleCol = -1;
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i].trim();
    if (!l.startsWith('|')) {
      ruleCol = -1;
      continue;
    }
    const cells = l.slice(1, l.endsWith('|') ? -1 : undefined).split('|').map((c) => c.trim());
    if (ruleCol === -1) {
      ruleCol = cells.findIndex((c) => c.toLowerCase() === 'rule');
      continue; // header
    }
    if (cells.every((c) => /^:?-+:?$/.test(c))) continue; // separator
    if (ruleCol >= 0) out.push({ line: i + 1, cells, ruleCol });
  }
  return out;
}

/** Rule ids written in backticks in a text. */
function ruleIdsIn(text: string, known: Set<string>): string[] {
  return [...text.matchAll(/`([a-z][a-z0-9-]*)`/g)].map((m) => m[1]).filter((id) => known.has(id));
}

/** Whether a fixture line carries `-- <word>: ...<rule>...`. */
function hasMarker(line: string, word: 'expect' | 'ok', rule: string): boolean {
  const idx = line.indexOf(`-- ${word}:`);
  if (idx === -1) return false;
  return line
    .slice(idx + word.length + 4)
    .split(/[,\s]+/)
    .includes(rule);
}

/** Problems of a coverage page, as messages naming the page line (empty when all is well). */
function checkCoverage(markdown: string, root: string, known: Set<string>): string[] {
  const problems: string[] = [];
  const rows = tableRows(markdown);
  if (rows.length === 0) problems.push('no table with a "rule" column');
  for (const row of rows) {
    const at = `coverage.md:${row.line}`;
    const ruleCell = row.cells[row.ruleCol] ?? '';
    const last = row.cells[row.cells.length - 1] ?? '';
    const named = ruleIdsIn(row.cells.join(' | '), known);
    const inRuleCell = [...ruleCell.matchAll(/`([^`]+)`/g)].map((m) => m[1]);
    for (const id of inRuleCell) if (!known.has(id)) problems.push(`${at}: unknown rule \`${id}\``);
    const links = [...row.cells.join(' | ').matchAll(LINK)];
    if (inRuleCell.length > 0 && links.length === 0 && !/see §/.test(last)) {
      problems.push(`${at}: the row names ${inRuleCell.join(', ')} but no fixture line`);
    }
    if (ruleCell === '—' && last.replace(/\[[^\]]*\]\([^)]*\)/g, '').trim().length < 10) {
      problems.push(`${at}: nothing checks this row, but no reason is given`);
    }
    if (ruleCell === '' && !/see §/.test(last)) problems.push(`${at}: no rule and no reference to another row`);
    for (const m of links) {
      const [, text, rule, file, lineText] = m;
      const ok = /^ok\b/.test(text);
      const rel = path.join('fixtures', rule, file);
      const full = path.join(root, rel);
      if (!known.has(rule)) {
        problems.push(`${at}: ${rel} is not in a rule's fixture folder`);
        continue;
      }
      if (!named.includes(rule)) problems.push(`${at}: links ${rel} but does not name \`${rule}\``);
      if (!fs.existsSync(full)) {
        problems.push(`${at}: ${rel} does not exist`);
        continue;
      }
      const n = Number(lineText);
      const line = fs.readFileSync(full, 'utf8').split(/\r?\n/)[n - 1];
      if (line === undefined) {
        problems.push(`${at}: ${rel} has no line ${n}`);
        continue;
      }
      if (!hasMarker(line, ok ? 'ok' : 'expect', rule)) {
        problems.push(`${at}: ${rel}:${n} has no "-- ${ok ? 'ok' : 'expect'}: ${rule}" marker`);
      }
    }
  }
  return problems;
}

const known = new Set(allMetas().map((m) => m.id));

describe('docs/coverage.md', () => {
  const page = fs.readFileSync(DOC, 'utf8');

  test('every fixture line it names exists and carries the rule marker', () => {
    expect(checkCoverage(page, ROOT, known)).toEqual([]);
  });

  test('it has rows for the spec sections with restrictions', () => {
    const sections = new Set(tableRows(page).map((r) => r.cells[0]).flatMap((c) => c.split(/,\s*/)));
    for (const s of ['§1', '§1.1', '§1.2', '§1.3', '§2.2', '§3', '§4', '§6', '§7.1', '§7.2', '§7.3', '§7.4']) {
      expect({ section: s, present: sections.has(s) }).toEqual({ section: s, present: true });
    }
  });

  test('the rules for refused and local-only statements cover every target family', () => {
    const rows = tableRows(page);
    for (const rule of ['no-unsupported-ddl', 'no-local-only-ddl']) {
      const text = rows.filter((r) => r.cells[r.ruleCol].includes(`\`${rule}\``)).map((r) => r.cells.join(' ')).join(' ');
      for (const family of ['bdr1', 'bdr3', 'pgd4', 'pgd5', 'pgd6']) {
        expect({ rule, family, mentioned: text.includes(`\`${family}`) }).toEqual({ rule, family, mentioned: true });
      }
    }
  });
});

describe('the coverage check itself', () => {
  const fixture = 'fixtures/no-local-only-ddl/pgd5.sql';
  const lines = fs.readFileSync(path.join(ROOT, fixture), 'utf8').split(/\r?\n/);
  const expectLine = lines.findIndex((l) => l.includes('-- expect: no-local-only-ddl')) + 1;
  const okLine = lines.findIndex((l) => l.includes('-- ok: no-local-only-ddl')) + 1;
  const page = (rule: string, links: string): string =>
    ['| § | restriction | rule | fixtures |', '|---|---|---|---|', `| §2.2 | x | ${rule} | ${links} |`].join('\n');
  const link = (text: string, file: string, n: number): string => `[${text}](../${file}#L${n})`;

  test('accepts a correct reference', () => {
    expect(checkCoverage(page('`no-local-only-ddl`', link('pgd5.sql', fixture, expectLine)), ROOT, known)).toEqual([]);
    expect(checkCoverage(page('`no-local-only-ddl`', link('ok pgd5.sql', fixture, okLine)), ROOT, known)).toEqual([]);
  });

  test('reports a line without the marker, a trap used as a firing line, a missing file, an unnamed rule', () => {
    expect(checkCoverage(page('`no-local-only-ddl`', link('pgd5.sql', fixture, okLine)), ROOT, known)).toHaveLength(1);
    expect(checkCoverage(page('`no-local-only-ddl`', link('ok pgd5.sql', fixture, expectLine)), ROOT, known)).toHaveLength(1);
    expect(checkCoverage(page('`no-local-only-ddl`', link('x.sql', 'fixtures/no-local-only-ddl/missing.sql', 1)), ROOT, known)).toHaveLength(1);
    expect(checkCoverage(page('`no-lock-table`', link('pgd5.sql', fixture, expectLine)), ROOT, known)).toHaveLength(1);
    expect(checkCoverage(page('`no-local-only-ddl`', link('pgd5.sql', fixture, 100000)), ROOT, known)).toHaveLength(1);
  });

  test('reports a row that names a rule without a fixture, an unknown rule, and a row without a reason', () => {
    expect(checkCoverage(page('`no-local-only-ddl`', 'nothing here'), ROOT, known)).toHaveLength(1);
    expect(checkCoverage(page('`no-such-rule`', 'see §1'), ROOT, known)).toHaveLength(1);
    expect(checkCoverage(page('—', ''), ROOT, known)).toHaveLength(1);
  });
});
