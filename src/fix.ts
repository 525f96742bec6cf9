/**
 * --fix: turns the findings' rewrites (rule `fix` plans) into new file contents.
 *
 * Runners that do not wrap files (plain, golang-migrate, sqitch, alembic output, django output):
 * the file is rewritten in place, with COMMIT / BEGIN boundaries where a step needs its own
 * transaction or none. Runners that wrap each file in a transaction (flyway, goose, dbmate,
 * prisma): steps that need their own transaction or none go to new files placed right after
 * the original, with the runner's own no-transaction marker.
 *
 * Comments and untouched statements are kept byte for byte. A file with a syntax error, and a
 * statement whose finding is suppressed, are never touched.
 */
import * as path from 'path';
import type { FileResult, Finding, LintResult } from './lint';
import type { FileModel, Stmt, Transaction } from './model';
import type { FixStep } from './rule';

export interface NewFile {
  /** Path relative to the same folder as the original's `path` is relative to. */
  path: string;
  text: string;
  /** Flyway `<file>.sql.conf` contents, when the step must run outside a transaction. */
  conf?: string;
}

export interface FilePlan {
  path: string;
  original: string;
  text: string;
  newFiles: NewFile[];
  /** Rule ids of the findings this plan fixes. */
  fixed: string[];
  /** Why some findings were left as they were. */
  skipped: Array<{ line: number; ruleId: string; reason: string }>;
}

const WRAPPING = new Set(['flyway', 'goose', 'dbmate', 'prisma']);

interface Edit {
  start: number;
  end: number;
  text: string;
}

/** Plans the rewrite of every reported file. */
export function planFixes(result: LintResult, runner: string, allPaths: string[] = []): FilePlan[] {
  const plans: FilePlan[] = [];
  const taken = new Set(allPaths.map((p) => p.replace(/\\/g, '/')));
  for (const fr of result.files) {
    const plan = planFile(fr, runner, taken);
    if (plan) plans.push(plan);
  }
  return plans;
}

function fixableFindings(fr: FileResult): Finding[] {
  return fr.findings.filter((f) => f.fix && f.stmt && !f.suppressed && !f.stmt.parent && f.stmt.executed);
}

function planFile(fr: FileResult, runner: string, taken: Set<string>): FilePlan | undefined {
  const file = fr.file;
  const findings = fixableFindings(fr);
  if (findings.length === 0) return undefined;
  const plan: FilePlan = { path: fr.path, original: file.source.text, text: file.source.text, newFiles: [], fixed: [], skipped: [] };
  if (file.hasSyntaxError) {
    for (const f of findings) plan.skipped.push({ line: f.line, ruleId: f.ruleId, reason: 'the file has a syntax error' });
    return plan;
  }
  // One rewrite per statement: the first finding's plan (rules are sorted; plans do not combine).
  const byStmt = new Map<Stmt, Finding>();
  for (const f of findings) {
    const prev = byStmt.get(f.stmt!);
    if (!prev) byStmt.set(f.stmt!, f);
    else plan.skipped.push({ line: f.line, ruleId: f.ruleId, reason: `the statement is already rewritten for ${prev.ruleId}; run --fix again` });
  }
  const text = file.source.text;
  const edits: Edit[] = [];
  const deferred = new Map<Transaction, string[]>();
  const txStart = new Map<Transaction, Set<string>>();
  const wrapping = WRAPPING.has(runner);
  const placed: NewFile[] = [];

  for (const [stmt, finding] of byStmt) {
    const fix = finding.fix!;
    const outFiles: Array<{ steps: FixStep[]; noTx: boolean }> = [];
    const edits0 = edits.length;
    const tx = stmt.tx;
    const inBlock = tx.block;
    const here: string[] = [];
    const before: string[] = [];
    // Once a step has moved after the transaction (or out of it), the steps after it follow it.
    let later = false;
    for (const step of fix.steps) {
      const mode = later && step.mode === 'in-place' ? 'own-transaction' : step.mode;
      switch (mode) {
        case 'in-place':
          here.push(step.sql);
          break;
        case 'transaction-start':
          if (!inBlock) before.push(step.sql);
          else {
            if (!txStart.has(tx)) txStart.set(tx, new Set());
            txStart.get(tx)!.add(step.sql);
          }
          break;
        case 'outside-transaction':
          if (!inBlock) here.push(step.sql);
          else if (here.length === 0 && firstAfterBegin(stmt)) {
            // Nothing of the transaction ran yet: run the step before its BEGIN.
            const begin = stmt.tx.statements[0];
            edits.push({ start: begin.start, end: begin.start, text: `${step.sql};\n` });
          } else if (wrapping) {
            outFiles.push({ steps: [step], noTx: true });
            later = true;
          } else here.push(`COMMIT;\n${step.sql};\nBEGIN`);
          break;
        case 'own-transaction':
          if (!inBlock) here.push(step.sql);
          else if (wrapping) {
            outFiles.push({ steps: [{ ...step, mode }], noTx: false });
            later = true;
          } else {
            if (!deferred.has(tx)) deferred.set(tx, []);
            deferred.get(tx)!.push(step.sql);
            later = true;
          }
          break;
      }
    }
    if (outFiles.length > 0) {
      const files = placeNewFiles(fr.path, runner, outFiles, taken, placed.length);
      if (!files) {
        edits.length = edits0;
        plan.skipped.push({ line: finding.line, ruleId: finding.ruleId, reason: `no free place for a new migration after ${path.posix.basename(fr.path)} (${runner} orders migrations by version)` });
        continue;
      }
      placed.push(...files);
    }
    const original = text.slice(stmt.start, stmt.end);
    let replacement = fix.keepOriginal ? [original, ...here].join(';\n') : here.join(';\n');
    if (before.length > 0) {
      // A statement on its own gets a transaction so that SET LOCAL applies to it.
      replacement = `BEGIN;\n${before.join(';\n')};\n${replacement || original};\nCOMMIT`;
    }
    if (replacement === '' ) {
      edits.push({ start: stmt.start, end: statementEndWithSemicolon(text, stmt.end), text: '' });
    } else {
      edits.push({ start: stmt.start, end: stmt.end, text: replacement });
    }
    plan.fixed.push(finding.ruleId);
  }

  for (const [tx, sqls] of txStart) {
    const first = tx.statements.find((s) => !s.parent);
    if (!first) continue;
    const lines = [...sqls].map((s) => `${s};`).join('\n');
    if (first.type === 'TransactionStmt') {
      edits.push({ start: afterStatement(text, first.end), end: afterStatement(text, first.end), text: `${lines}\n` });
    } else {
      edits.push({ start: first.start, end: first.start, text: `${lines}\n` });
    }
  }
  for (const [tx, sqls] of deferred) {
    const top = tx.statements.filter((s) => !s.parent);
    const last = top[top.length - 1];
    const steps = sqls.map((s) => `BEGIN;\n${s};\nCOMMIT;`).join('\n');
    if (last && last.type === 'TransactionStmt' && last.f.kind === 'TRANS_STMT_COMMIT') {
      const at = afterStatement(text, last.end);
      edits.push({ start: at, end: at, text: `${steps}\n` });
    } else {
      // The transaction ends with the file (implicit block or an unterminated BEGIN).
      const at = text.length;
      const nl = text.endsWith('\n') || text === '' ? '' : '\n';
      edits.push({ start: at, end: at, text: `${nl}COMMIT;\n${steps}\n` });
    }
  }

  plan.text = applyEdits(text, edits);
  plan.newFiles = placed;
  return plan;
}

/** True when a statement is the first one after its transaction's explicit BEGIN. */
function firstAfterBegin(stmt: Stmt): boolean {
  const top = stmt.tx.statements.filter((s) => !s.parent);
  return stmt.tx.kind === 'explicit' && top.length > 1 && top[0].type === 'TransactionStmt' && top[1] === stmt;
}

/** Index just after a statement's semicolon and the rest of its line (if only spaces/comment follow). */
function afterStatement(text: string, end: number): number {
  let i = end;
  while (i < text.length && (text[i] === ' ' || text[i] === '\t')) i++;
  if (text[i] === ';') i++;
  const nl = text.indexOf('\n', i);
  const rest = nl === -1 ? text.slice(i) : text.slice(i, nl);
  if (rest.trim() === '' || rest.trim().startsWith('--')) return nl === -1 ? text.length : nl + 1;
  return i;
}

/** End of a removed statement: its semicolon and the spaces after it. */
function statementEndWithSemicolon(text: string, end: number): number {
  let i = end;
  while (i < text.length && (text[i] === ' ' || text[i] === '\t')) i++;
  if (text[i] !== ';') return end;
  i++;
  while (i < text.length && (text[i] === ' ' || text[i] === '\t')) i++;
  return i;
}

function applyEdits(text: string, edits: Edit[]): string {
  const sorted = [...edits].sort((a, b) => a.start - b.start || a.end - b.end);
  let out = '';
  let pos = 0;
  for (const e of sorted) {
    if (e.start < pos) continue; // overlapping edits: keep the first
    out += text.slice(pos, e.start) + e.text;
    pos = e.end;
  }
  return out + text.slice(pos);
}

/** Names and contents of the new migration files for a wrapping runner. */
function placeNewFiles(
  original: string,
  runner: string,
  groups: Array<{ steps: FixStep[]; noTx: boolean }>,
  taken: Set<string>,
  already: number,
): NewFile[] | undefined {
  const dir = path.posix.dirname(original.replace(/\\/g, '/'));
  const base = path.posix.basename(original.replace(/\\/g, '/'));
  const out: NewFile[] = [];
  const body = (g: { steps: FixStep[] }): string => g.steps.map((s) => `${s.sql};`).join('\n');
  for (let i = 0; i < groups.length; i++) {
    const g = groups[i];
    const k = already + i + 1;
    let name: string | undefined;
    let text = '';
    let conf: string | undefined;
    const header = `-- Written by pgd-lint --fix: step ${k} of the rewrite of ${base}, in its own ${g.noTx ? 'session, outside any transaction' : 'transaction'}.\n`;
    if (runner === 'flyway') {
      const m = /^([VvRr]?)([^_]*(?:_[^_]+)*?)__(.*)\.sql$/.exec(base);
      if (m && m[1].toUpperCase() === 'V') {
        name = `V${m[2]}.${k}__${m[3]}_pgd_lint_step${k}.sql`;
        text = header + body(g) + '\n';
        if (g.noTx) conf = 'executeInTransaction=false\n';
      }
    } else if (runner === 'goose' || runner === 'dbmate') {
      const m = /^(\d+)(.*)\.sql$/.exec(base);
      if (m) {
        const version = nextFreeVersion(m[1], 1, dir, taken);
        if (version) {
          name = `${version}${m[2]}_pgd_lint_step${k}.sql`;
          if (runner === 'goose') {
            text = `${g.noTx ? '-- +goose NO TRANSACTION\n' : ''}-- +goose Up\n${header}-- +goose StatementBegin\n${body(g)}\n-- +goose StatementEnd\n\n-- +goose Down\n`;
          } else {
            text = `-- migrate:up${g.noTx ? ' transaction:false' : ''}\n${header}${body(g)}\n\n-- migrate:down\n`;
          }
        }
      }
    } else if (runner === 'prisma') {
      const folder = path.posix.basename(dir);
      const m = /^(\d+)(.*)$/.exec(folder);
      if (m) {
        const version = nextFreeVersion(m[1], 1, path.posix.dirname(dir), taken, true);
        if (version) {
          const p = path.posix.join(path.posix.dirname(dir), `${version}${m[2]}_pgd_lint_step${k}`, 'migration.sql');
          out.push({ path: p, text: header + body(g) + '\n' });
          taken.add(p);
          continue;
        }
      }
    }
    if (!name) return undefined;
    const p = dir === '.' ? name : path.posix.join(dir, name);
    out.push({ path: p, text, conf });
    taken.add(p);
  }
  return out;
}

/** The k-th integer version after `version` that no other migration uses (same digit count). */
function nextFreeVersion(version: string, k: number, dir: string, taken: Set<string>, folders = false): string | undefined {
  const used = new Set<bigint>();
  let next: bigint | undefined;
  const v = BigInt(version);
  for (const p of taken) {
    const parentOk = folders ? path.posix.dirname(path.posix.dirname(p)) === dir : path.posix.dirname(p) === dir;
    if (!parentOk) continue;
    const name = folders ? path.posix.basename(path.posix.dirname(p)) : path.posix.basename(p);
    const m = /^(\d+)/.exec(name);
    if (!m) continue;
    const n = BigInt(m[1]);
    used.add(n);
    if (n > v && (next === undefined || n < next)) next = n;
  }
  let candidate = v;
  let found = 0;
  while (found < k) {
    candidate += 1n;
    if (next !== undefined && candidate >= next) return undefined;
    if (!used.has(candidate)) found++;
  }
  return candidate.toString().padStart(version.length, '0');
}

/** The plan as text for a file that changes, for --fix-dry-run. */
export function describePlan(plan: FilePlan): string {
  void plan;
  return '';
}

export type { FileModel };
