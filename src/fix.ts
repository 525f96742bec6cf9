/**
 * --fix: turns the findings' rewrites (rule `fix` plans) into new file contents.
 *
 * Where each step goes depends on how the runner executes the statement's section:
 * - autocommit sections (plain, sqitch, alembic and django output, flyway with
 *   executeInTransaction=false, goose NO TRANSACTION): the file is rewritten in place. Outside a
 *   transaction block every step is a statement of its own; inside BEGIN ... COMMIT a step that
 *   needs a transaction of its own goes after the COMMIT in a BEGIN ... COMMIT of its own, and a
 *   step that must run outside any transaction block goes before the BEGIN (when nothing of the
 *   transaction ran yet) or between a COMMIT and a new BEGIN.
 * - single-query sections (golang-migrate, prisma, dbmate transaction:false): the section is one
 *   query, so COMMIT / BEGIN still separate transactions in place, but a statement that must run
 *   outside any transaction block can only be the sole statement of a migration: it goes to a
 *   new migration file placed right after the original.
 * - sections the runner wraps in a transaction (flyway, goose, dbmate): steps that need their own
 *   transaction or none go to new migration files placed right after the original, with the
 *   runner's own no-transaction marker.
 *
 * On BDR 1 with require-ddl-locking-permit on, every transaction the rewrite creates (or wraps a
 * statement in) that takes the global DDL lock starts with `SET LOCAL bdr.permit_ddl_locking =
 * true`, and a statement that cannot run in a transaction block gets a session-level SET / RESET
 * around it: that is done here, once, and not by each rule.
 *
 * Comments and untouched statements are kept byte for byte. A file with a syntax error, and a
 * statement whose finding is suppressed, are never touched.
 */
import * as path from 'path';
import { Catalog } from './catalog';
import { effectiveSeverity } from './lint';
import type { FileResult, Finding, LintOptions, LintResult } from './lint';
import type { FileModel, Stmt, Transaction } from './model';
import { Comment, parseFile, parseSql } from './parser';
import { cannotRunInTransaction, classify, enumAddValueLabel } from './pgd';
import { allRules } from './registry';
import type { FixStep } from './rule';
import { parseBool, settingChanges } from './session-settings';
import type { Target } from './targets';

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

/** The rule whose fix the engine applies itself (see the file comment). */
export const PERMIT_RULE = 'require-ddl-locking-permit';
const PERMIT_SETTING = 'bdr.permit_ddl_locking';
const PERMIT = 'SET LOCAL bdr.permit_ddl_locking = true';
const PERMIT_SESSION = 'SET bdr.permit_ddl_locking = true';
const PERMIT_RESET = 'RESET bdr.permit_ddl_locking';

/** Runners whose new migration files the engine knows how to name. */
const NAMED_RUNNERS = new Set(['flyway', 'goose', 'dbmate', 'prisma', 'golang-migrate']);

interface Edit {
  start: number;
  end: number;
  text: string;
}

/** What the engine needs to know besides the findings. */
export interface FixSettings {
  target: Target;
  runner: string;
  /** BDR 1 with require-ddl-locking-permit on (and not assumeDefault): transactions that take the global DDL lock need the permit. */
  permit: boolean;
}

/** The engine's settings for a lint run. */
export function fixSettings(result: LintResult, opts: LintOptions): FixSettings {
  const rule = (opts.rules ?? allRules()).find((r) => r.meta.id === PERMIT_RULE);
  let permit = false;
  if (rule && result.target.family === 'bdr1') {
    const sev = effectiveSeverity(PERMIT_RULE, rule.meta.severity(result.target), opts);
    const assumeDefault = opts.ruleOptions[PERMIT_RULE]?.assumeDefault ?? rule.meta.options?.assumeDefault?.default;
    permit = sev !== 'off' && assumeDefault !== true;
  }
  return { target: result.target, runner: result.model.runner, permit };
}

/** Plans the rewrite of every reported file. `allPaths`: every migration path of the run (for naming new files). */
export function planFixes(result: LintResult, opts: LintOptions, allPaths: string[] = []): FilePlan[] {
  const settings = fixSettings(result, opts);
  const taken = new Set(allPaths.map((p) => p.replace(/\\/g, '/')));
  placedPaths = new Set();
  const permits = new PermitTracker(result);
  const plans: FilePlan[] = [];
  for (const fr of result.files) {
    const plan = new FilePlanner(fr, result, settings, permits, taken).plan();
    if (plan) plans.push(plan);
  }
  return plans;
}

/**
 * `bdr.permit_ddl_locking` as the migration itself sets it, before each statement: in the
 * session (SET, RESET; undone by ROLLBACK) and in the statement's transaction (SET LOCAL).
 * Unset means the database default, which the rule assumes to be false.
 */
class PermitTracker {
  private readonly before = new Map<Stmt, { session: boolean; local?: boolean }>();

  constructor(result: LintResult) {
    for (const file of result.model.files) {
      let session = false;
      let local: boolean | undefined;
      let tx: Transaction | undefined;
      let sessionAtStart = false;
      for (const s of file.statements) {
        if (!s.executed || s.tx.kind === 'remote') continue;
        if (tx !== s.tx) {
          tx = s.tx;
          local = undefined;
          sessionAtStart = session;
        }
        this.before.set(s, { session, local });
        for (const c of settingChanges(s)) {
          if (c.all) {
            session = false;
            local = undefined;
            continue;
          }
          if (c.name !== PERMIT_SETTING) continue;
          const v = c.value === undefined ? false : parseBool(c.value) === true;
          if (c.local) {
            if (s.tx.block || s.parent) local = v;
          } else {
            session = v;
            local = undefined;
          }
        }
        if (s.tx.statements[s.tx.statements.length - 1] === s) {
          if (s.type === 'TransactionStmt' && s.f.kind === 'TRANS_STMT_ROLLBACK') session = sessionAtStart;
          tx = undefined;
          local = undefined;
        }
      }
    }
  }

  /** The permit is on for the whole session just before `stmt`. */
  session(stmt: Stmt): boolean {
    return this.before.get(stmt)?.session ?? false;
  }

  /** The permit is on in `stmt`'s transaction just before it. */
  inTransaction(stmt: Stmt): boolean {
    const b = this.before.get(stmt);
    return b?.local ?? b?.session ?? false;
  }
}

/** How the runner executes a statement's section, for placing steps. */
type Place = 'autocommit' | 'explicit' | 'query' | 'runner';

function placeOf(stmt: Stmt): Place {
  const section = stmt.file.sections.find((s) => stmt.start >= s.start && stmt.start < s.end);
  if (section?.execution === 'single-query') return 'query';
  if (section?.execution === 'transaction' || stmt.tx.kind === 'runner') return 'runner';
  return stmt.tx.block ? 'explicit' : 'autocommit';
}

/** A group of steps written after a transaction in the same file: in BEGIN ... COMMIT, or as one bare statement. */
interface Unit {
  sqls: string[];
  tx: boolean;
  /** The rewritten statement. */
  at: Stmt;
}

/** A group of steps for a new migration file. */
interface Group {
  sqls: string[];
  noTx: boolean;
  /** Text written as it is (moved statements of a split transaction). */
  raw?: boolean;
}

const stepInfoCache = new Map<string, { lock: boolean; noBlock: boolean }>();
/** New migrations planned in this run: taken versions, but not the next migration that bounds the free ones. */
let placedPaths = new Set<string>();

class FilePlanner {
  private readonly file: FileModel;
  private readonly text: string;
  private readonly edits: Edit[] = [];
  private readonly after = new Map<Transaction, Unit[]>();
  private readonly txStart = new Map<Transaction, string[]>();
  private readonly placed: NewFile[] = [];
  private readonly out: FilePlan;
  private comments?: Comment[];
  /** The comments by where they end and where they start. */
  private commentAt?: { ending: Map<number, Comment>; starting: Map<number, Comment> };
  /** Statements without a semicolon that the plan gives one. */
  private readonly terminated = new Set<Stmt>();

  constructor(
    private readonly fr: FileResult,
    private readonly result: LintResult,
    private readonly settings: FixSettings,
    private readonly permits: PermitTracker,
    private readonly taken: Set<string>,
  ) {
    this.file = fr.file;
    this.text = fr.file.source.text;
    this.out = { path: fr.path, original: this.text, text: this.text, newFiles: [], fixed: [], skipped: [] };
  }

  plan(): FilePlan | undefined {
    const candidates = this.fr.findings.filter((f) => f.fix && f.stmt && !f.suppressed && f.stmt.executed);
    if (candidates.length === 0) return undefined;
    const plan = this.out;
    const findings: Finding[] = [];
    for (const f of candidates) {
      if (!f.stmt!.parent || f.fix!.splitBefore) findings.push(f);
      else plan.skipped.push({ line: f.line, ruleId: f.ruleId, reason: `the statement is inside ${f.stmt!.via === 'do' ? 'a DO block' : 'another statement'}: rewrite it there by hand` });
    }
    if (this.file.hasSyntaxError) {
      for (const f of findings) plan.skipped.push({ line: f.line, ruleId: f.ruleId, reason: 'the file has a syntax error' });
      return plan;
    }
    const suppressed = new Set(this.fr.findings.filter((f) => f.suppressed && f.stmt).map((f) => f.stmt!));

    // Rewrites: one per statement (the first finding's; rules are sorted and plans do not combine).
    const rewrites = new Map<Stmt, Finding>();
    const permitFor: Finding[] = [];
    const splits: Finding[] = [];
    for (const f of findings) {
      const stmt = f.stmt!;
      if (f.fix!.splitBefore) {
        splits.push(f);
        continue;
      }
      if (f.ruleId === PERMIT_RULE) {
        permitFor.push(f);
        continue;
      }
      if (suppressed.has(stmt)) {
        plan.skipped.push({ line: f.line, ruleId: f.ruleId, reason: 'another finding on this statement is suppressed by a directive' });
        continue;
      }
      const prev = rewrites.get(stmt);
      if (!prev) rewrites.set(stmt, f);
      else plan.skipped.push({ line: f.line, ruleId: f.ruleId, reason: `the statement is already rewritten for ${prev.ruleId}; run --fix again` });
    }

    // The permit for the transactions that lack it (statements on their own are wrapped with their rewrite).
    const wrapOriginal = new Set<Stmt>();
    for (const f of permitFor) {
      const stmt = f.stmt!;
      if (placeOf(stmt) === 'autocommit') wrapOriginal.add(stmt);
      else this.addTxStart(stmt.tx, PERMIT);
      plan.fixed.push(f.ruleId);
    }
    for (const stmt of wrapOriginal) {
      if (!rewrites.has(stmt)) {
        this.edits.push(this.replacement(stmt, [this.bare(this.source(stmt), stmt, true)], true));
      }
    }

    for (const [stmt, finding] of rewrites) {
      const ok = this.rewrite(stmt, finding.fix!.steps, !!finding.fix!.keepOriginal, wrapOriginal.has(stmt));
      if (ok === true) plan.fixed.push(finding.ruleId);
      else plan.skipped.push({ line: finding.line, ruleId: finding.ruleId, reason: ok });
    }

    for (const f of splits) {
      const ok = this.split(f.stmt!.tx, f.fix!.splitBefore!);
      if (ok === true) plan.fixed.push(f.ruleId);
      else plan.skipped.push({ line: f.line, ruleId: f.ruleId, reason: ok });
    }

    this.flushTxStarts();
    this.flushAfter();
    // Lines written into a file keep its line ends.
    const crlf = (this.text.match(/\r\n/g) ?? []).length;
    const eol = crlf > 0 && crlf >= (this.text.match(/\n/g) ?? []).length - crlf ? '\r\n' : '\n';
    plan.text = applyEdits(this.text, eol === '\n' ? this.edits : this.edits.map((e) => ({ ...e, text: e.text.replace(/\r?\n/g, eol) })));
    plan.newFiles = this.placed;
    return plan;
  }

  // --- what a step does -------------------------------------------------------------------

  private info(sql: string): { lock: boolean; noBlock: boolean } {
    const key = `${this.settings.target.name}\u0000${sql}`;
    let r = stepInfoCache.get(key);
    if (r) return r;
    r = { lock: false, noBlock: false };
    const parsed = parseSql(sql);
    if ('message' in parsed) {
      r.lock = true; // BDR 1 syntax the grammar does not know (CREATE SEQUENCE ... USING bdr): DDL
    } else {
      for (const raw of parsed.stmts) {
        const node = raw.stmt as Record<string, unknown>;
        const facts = classify(node, {
          target: this.settings.target,
          catalog: new Catalog(),
          session: { ddlReplicationOff: false, ddlLockingOff: false },
          remote: false,
          createdInTx: () => false,
        });
        if (facts.lock !== 'none') r.lock = true;
        if (cannotRunInTransaction(node)) r.noBlock = true;
        // BDR 1 runs on PostgreSQL 9.4–9.6, which refuses ADD VALUE in a transaction block.
        if (this.settings.target.family === 'bdr1' && enumAddValueLabel(node)) r.noBlock = true;
      }
    }
    stepInfoCache.set(key, r);
    return r;
  }

  /** Whether a new transaction holding these statements needs the permit, after `at` in the file. */
  private needsPermit(sqls: string[], at: Stmt): boolean {
    if (!this.settings.permit || this.permits.session(at)) return false;
    return sqls.some((s) => this.info(s).lock);
  }

  /** A statement that runs on its own (autocommit), with the permit when it needs one. */
  private bare(sql: string, at: Stmt, force = false): string {
    if (!this.settings.permit || this.permits.session(at)) return sql;
    if (!force && !this.info(sql).lock) return sql;
    if (this.info(sql).noBlock) return `${PERMIT_SESSION};\n${sql};\n${PERMIT_RESET}`;
    return `BEGIN;\n${PERMIT};\n${sql};\nCOMMIT`;
  }

  /** Statements in a transaction of their own. */
  private ownTx(sqls: string[], at: Stmt): string {
    const head: string[] = [];
    if (this.needsPermit(sqls, at)) head.push(PERMIT);
    return ['BEGIN', ...head, ...sqls].join(';\n') + ';\nCOMMIT';
  }

  /** A statement's text, from its first token to its last (not a comment after it, nor its semicolon). */
  private source(stmt: Stmt): string {
    return this.text.slice(stmt.start, this.bounds(stmt).code);
  }

  private allComments(): Comment[] {
    this.comments ??= parseFile(this.file.source, true).comments;
    return this.comments;
  }

  /**
   * Where a statement's code ends (the end of its last token: a statement's span may take in the
   * comments before its semicolon) and where its terminating semicolon is, when it has one
   * (comments may sit between). Steps written after a statement go after that semicolon, never
   * into a line comment that follows the statement's last token.
   */
  private bounds(stmt: Stmt): { code: number; semi?: number } {
    if (!this.commentAt) {
      const comments = this.allComments();
      this.commentAt = { ending: new Map(comments.map((c) => [c.end, c])), starting: new Map(comments.map((c) => [c.start, c])) };
    }
    const { ending, starting } = this.commentAt;
    let code = stmt.end;
    for (;;) {
      while (code > stmt.start && /\s/.test(this.text[code - 1])) code--;
      const c = ending.get(code);
      if (!c || c.start < stmt.start || c.start >= code) break;
      code = c.start;
    }
    let i = code;
    for (;;) {
      while (i < this.text.length && /\s/.test(this.text[i])) i++;
      const c = starting.get(i);
      if (!c || c.end <= i) break;
      i = c.end;
    }
    return { code, semi: this.text[i] === ';' ? i : undefined };
  }

  /** The end of a statement with its semicolon (or, without one, its trailing comments) and the rest of its line, when only spaces or a line comment follow. */
  private tail(stmt: Stmt): number {
    const { code, semi } = this.bounds(stmt);
    return lineTail(this.text, semi !== undefined ? semi + 1 : Math.max(stmt.end, code));
  }

  /**
   * Where to write statements that follow `stmt` (see `tail`), and the line break to put first
   * when that is not a line start. A statement without a semicolon (the last one of a file) gets
   * one after its last token.
   */
  private insertionAfter(stmt: Stmt): { at: number; lead: string } {
    const { code, semi } = this.bounds(stmt);
    if (semi === undefined && !this.terminated.has(stmt)) {
      this.terminated.add(stmt);
      this.edits.push({ start: code, end: code, text: ';' });
    }
    const at = this.tail(stmt);
    return { at, lead: sep(this.text, at) };
  }

  private addTxStart(tx: Transaction, sql: string): void {
    const list = this.txStart.get(tx) ?? [];
    if (!list.includes(sql)) list.push(sql);
    this.txStart.set(tx, list);
  }

  // --- one statement's rewrite --------------------------------------------------------------

  private rewrite(stmt: Stmt, steps: FixStep[], keepOriginal: boolean, wrapOriginal: boolean): true | string {
    const place = placeOf(stmt);
    const tx = stmt.tx;
    if (endsWith(tx, 'TRANS_STMT_ROLLBACK')) return 'its transaction rolls back, so the statement has no effect to rewrite';
    const original = this.source(stmt);
    const here: string[] = [];
    const units: Unit[] = [];
    const groups: Group[] = [];
    const edits0 = this.edits.length;
    let phase: 'tx' | 'after' | 'files' = 'tx';
    const rest = laterStatements(stmt);

    if (place === 'autocommit') {
      // Every statement runs on its own: the steps in order, each one (with the permit) where the statement was.
      // The in-place steps replace one statement: those that need the permit share one transaction.
      const starts = steps.filter((s) => s.mode === 'transaction-start').map((s) => s.sql);
      const body: string[] = [];
      let run: string[] = [];
      const flush = (): void => {
        if (run.length > 0) body.push(run.length === 1 ? this.bare(run[0], stmt) : this.ownTx(run, stmt));
        run = [];
      };
      if (keepOriginal) body.push(this.bare(original, stmt, wrapOriginal));
      for (const s of steps) {
        if (s.mode === 'transaction-start') continue;
        const info = this.info(s.sql);
        if (s.mode === 'in-place' && info.lock && !info.noBlock && this.needsPermit([s.sql], stmt)) {
          run.push(s.sql);
          continue;
        }
        flush();
        body.push(this.bare(s.sql, stmt));
      }
      flush();
      this.edits.push(this.replacement(stmt, [...starts, ...body], keepOriginal));
      return true;
    }

    for (const step of steps) {
      const mode = step.mode;
      if (phase === 'files') {
        groups.push({ sqls: [step.sql], noTx: mode === 'outside-transaction' });
        continue;
      }
      if (phase === 'after') {
        if (mode === 'outside-transaction' && place === 'query') {
          phase = 'files';
          groups.push({ sqls: [step.sql], noTx: true });
        } else units.push({ sqls: [step.sql], tx: mode !== 'outside-transaction', at: stmt });
        continue;
      }
      switch (mode) {
        case 'in-place':
          here.push(step.sql);
          break;
        case 'transaction-start':
          this.addTxStart(tx, step.sql);
          break;
        case 'outside-transaction':
          if (place === 'explicit' && here.length === 0 && !keepOriginal && firstAfterBegin(stmt)) {
            // Nothing of the transaction ran yet: run the step before its BEGIN.
            const begin = tx.statements[0];
            this.edits.push({ start: begin.start, end: begin.start, text: `${this.bare(step.sql, stmt)};\n` });
          } else if (place === 'explicit' && rest.length === 0 && endsWithCommit(tx)) {
            // Nothing of the transaction follows: after its COMMIT.
            phase = 'after';
            units.push({ sqls: [step.sql], tx: false, at: stmt });
          } else if (place === 'explicit') {
            // Between a COMMIT and a new BEGIN that carries the transaction's SET LOCALs on.
            const remaining = [...rest.map((s) => this.source(s))];
            here.push(`COMMIT;\n${this.bare(step.sql, stmt)};\n${this.reopen(stmt, remaining, steps.slice(steps.indexOf(step) + 1))}`);
          } else {
            phase = 'files';
            groups.push({ sqls: [step.sql], noTx: true });
          }
          break;
        case 'own-transaction':
          if (place === 'runner') {
            phase = 'files';
            groups.push({ sqls: [step.sql], noTx: false });
          } else {
            phase = 'after';
            units.push({ sqls: [step.sql], tx: true, at: stmt });
          }
          break;
      }
    }

    if (groups.length > 0) {
      const files = this.newFiles(stmt, groups);
      if (typeof files === 'string') {
        this.edits.length = edits0;
        return files;
      }
      this.placed.push(...files);
    }
    if (units.length > 0) this.after.set(tx, [...(this.after.get(tx) ?? []), ...units]);
    const body = keepOriginal ? [original, ...here] : here;
    this.edits.push(this.replacement(stmt, body, keepOriginal));
    return true;
  }

  /**
   * The edit that puts `parts` (statements without their last semicolon) where `stmt` was. Comments
   * written inside the statement are kept, on their own lines before what replaces it.
   */
  private replacement(stmt: Stmt, parts: string[], keepsOriginal = false): Edit {
    const { code, semi } = this.bounds(stmt);
    const own = (to: number): string[] => (keepsOriginal ? [] : this.allComments().filter((c) => c.start >= stmt.start && c.end <= to).map((c) => c.text));
    if (parts.length === 0) {
      // The statement goes, with its semicolon; its comments stay.
      const inner = own(semi ?? stmt.end);
      let start = stmt.start;
      let end = semi === undefined ? Math.max(stmt.end, code) : spacesAfter(this.text, semi + 1);
      const ownLine = lineStart(this.text, start) !== start || start === 0 || this.text[start - 1] === '\n';
      if (inner.length === 0 && ownLine && (end === this.text.length || this.text[end] === '\n' || this.text.startsWith('\r\n', end))) {
        // The statement had its lines to itself: they go with it.
        start = lineStart(this.text, start);
        end = this.text.startsWith('\r\n', end) ? end + 2 : Math.min(this.text.length, end + 1);
      }
      return { start, end, text: inner.length > 0 ? `${inner.join('\n')}${end < this.text.length && this.text[end] !== '\n' ? '\n' : ''}` : '' };
    }
    if (keepsOriginal && semi !== undefined && parts[0] === this.source(stmt)) {
      // The statement stays as it is, with its comments and semicolon: the steps follow that semicolon.
      const at = semi + 1;
      return { start: at, end: at, text: parts.length > 1 ? `\n${parts.slice(1).join(';\n')};` : '' };
    }
    // The statement's code is replaced; comments between its last token and its semicolon stay
    // where they are, and that semicolon ends the last part.
    return { start: stmt.start, end: code, text: [...own(code), parts.join(';\n')].join('\n') };
  }

  /**
   * `BEGIN` again after a COMMIT the rewrite put inside a transaction, with the transaction's
   * earlier SET LOCALs repeated, and the permit when what follows takes the global DDL lock.
   */
  private reopen(stmt: Stmt, rest: string[], restSteps: FixStep[]): string {
    const locals = setLocalsBefore(stmt).map((s) => this.source(s));
    const head = ['BEGIN', ...locals];
    const following = [...rest, ...restSteps.filter((s) => s.mode === 'in-place').map((s) => s.sql)];
    // A SET LOCAL permit of the transaction is repeated with the other SET LOCALs.
    const carried = !this.permits.session(stmt) && this.permits.inTransaction(stmt);
    if (!carried && this.needsPermit(following, stmt)) head.push(PERMIT);
    return head.join(';\n');
  }

  // --- after the transaction ---------------------------------------------------------------

  private flushAfter(): void {
    for (const [tx, units] of this.after) {
      const parts: string[] = [];
      for (const u of units) {
        parts.push(u.tx ? `${this.ownTx(u.sqls, u.at)};` : `${this.bare(u.sqls[0], u.at)};`);
      }
      const top = tx.statements.filter((s) => !s.parent);
      const last = top[top.length - 1];
      if (last.type === 'TransactionStmt' && (last.f.kind === 'TRANS_STMT_COMMIT' || last.f.kind === 'TRANS_STMT_ROLLBACK')) {
        const { at, lead } = this.insertionAfter(last);
        this.edits.push({ start: at, end: at, text: `${lead}${parts.join('\n')}\n` });
      } else {
        // The transaction ends with its section (an implicit block, a lone statement, an unterminated BEGIN).
        const { at, lead } = this.insertionAfter(last);
        this.edits.push({ start: at, end: at, text: `${lead}COMMIT;\n${parts.join('\n')}\n` });
      }
    }
  }

  private flushTxStarts(): void {
    for (const [tx, sqls] of this.txStart) {
      const top = tx.statements.filter((s) => !s.parent);
      const first = top[0];
      if (!first) continue;
      const lines = sqls.map((s) => `${s};`).join('\n');
      if (first.type === 'TransactionStmt' && (first.f.kind === 'TRANS_STMT_BEGIN' || first.f.kind === 'TRANS_STMT_START')) {
        const { at, lead } = this.insertionAfter(first);
        this.edits.push({ start: at, end: at, text: `${lead}${lines}\n` });
      } else {
        this.edits.push({ start: first.start, end: first.start, text: `${lines}\n` });
      }
    }
  }

  // --- splitting a transaction (no-mixed-ddl-dml) ----------------------------------------------

  private split(tx: Transaction, before: Stmt[]): true | string {
    const top = tx.statements.filter((s) => !s.parent);
    const points = before.filter((s) => top.includes(s) && s !== top[0]).sort((a, b) => a.start - b.start);
    if (points.length === 0) return 'nothing to split';
    const place = placeOf(points[0]);
    if (place === 'autocommit') return 'the statements already run in transactions of their own';
    const segments = points.map((p, i) => {
      const next = points[i + 1];
      const stmts = top.filter((s) => s.start >= p.start && (!next || s.start < next.start) && s.type !== 'TransactionStmt');
      return { at: p, stmts };
    });
    const segmentPermit = (at: Stmt, stmts: Stmt[], locals: Stmt[]): boolean => {
      if (!this.settings.permit || this.permits.session(at)) return false;
      if (locals.length > 0 && this.permits.inTransaction(at)) return false; // the repeated SET LOCAL carries it
      return stmts.some((s) => [s, ...tx.statements.filter((c) => isInside(c, s))].some((c) => (this.result.facts.get(c)?.lock ?? 'none') !== 'none'));
    };
    if (place !== 'runner') {
      for (const seg of segments) {
        const locals = setLocalsBefore(seg.at);
        const head = [tx.kind === 'explicit' ? 'COMMIT;\nBEGIN;' : 'COMMIT;', ...locals.map((s) => `${this.source(s)};`)];
        if (segmentPermit(seg.at, seg.stmts, locals)) head.push(`${PERMIT};`);
        const at = lineStart(this.text, seg.at.start);
        this.edits.push({ start: at, end: at, text: `${sep(this.text, at)}${head.join('\n')}\n` });
      }
      return true;
    }
    // A runner's transaction: the statements from the first split point on move to new migrations.
    const last = top[top.length - 1];
    const end = this.tail(last);
    const from = lineStart(this.text, points[0].start);
    if (this.edits.some((e) => e.start < end && e.end > from) || [...this.after.keys()].includes(tx)) {
      return 'other rewrites touch the statements that would move; run --fix again';
    }
    const groups: Group[] = segments.map((seg, i) => {
      const next = segments[i + 1];
      const s = i === 0 ? from : lineStart(this.text, seg.at.start);
      const e = next ? lineStart(this.text, next.at.start) : end;
      const locals = setLocalsBefore(seg.at).map((x) => `${this.source(x)};\n`).join('');
      const permit = segmentPermit(seg.at, seg.stmts, setLocalsBefore(seg.at)) ? `${PERMIT};\n` : '';
      return { sqls: [`${locals}${permit}${this.text.slice(s, e).replace(/\s*$/, '')}`], noTx: false, raw: true };
    });
    const files = this.newFiles(points[0], groups);
    if (typeof files === 'string') return files;
    this.placed.push(...files);
    this.edits.push({ start: from, end, text: '' });
    return true;
  }

  // --- new migration files -----------------------------------------------------------------

  private newFiles(stmt: Stmt, groups: Group[]): NewFile[] | string {
    const runner = this.settings.runner;
    if (!NAMED_RUNNERS.has(runner)) return `the ${runner} runner has no migration file to put a step that needs its own transaction in`;
    const out: NewFile[] = [];
    for (const g of groups) {
      let sqls = g.sqls;
      if (!g.raw && this.needsPermit(sqls, stmt)) {
        if (!g.noTx) sqls = [PERMIT, ...sqls];
        else if (runner === 'flyway' || runner === 'goose') sqls = [PERMIT_SESSION, ...sqls, PERMIT_RESET];
        else return `${runner} sends a migration as one query, so the session-level bdr.permit_ddl_locking that ${firstWords(g.sqls[0])} needs outside a transaction cannot share its migration`;
      }
      const k = this.placed.length + out.length + 1;
      const nf = placeNewFile(this.fr.path, runner, { sqls, noTx: g.noTx, raw: g.raw }, k, this.taken);
      if (!nf) {
        for (const o of out) {
          this.taken.delete(o.path);
          placedPaths.delete(o.path);
        }
        return `no free place for a new migration after ${path.posix.basename(this.fr.path.replace(/\\/g, '/'))} (${runner} orders migrations by version)`;
      }
      out.push(nf);
      this.taken.add(nf.path);
      placedPaths.add(nf.path);
    }
    return out;
  }
}

function firstWords(sql: string): string {
  return sql.split(/\s+/).slice(0, 4).join(' ');
}

function isInside(s: Stmt, outer: Stmt): boolean {
  for (let p = s.parent; p; p = p.parent) if (p === outer) return true;
  return false;
}

/** Top-level statements after `stmt` in its transaction, up to (not including) its COMMIT. */
function laterStatements(stmt: Stmt): Stmt[] {
  const top = stmt.tx.statements.filter((s) => !s.parent);
  return top.slice(top.indexOf(stmt) + 1).filter((s) => s.type !== 'TransactionStmt');
}

/** The transaction's SET LOCAL statements before `stmt`, to repeat in a transaction split off from it. */
function setLocalsBefore(stmt: Stmt): Stmt[] {
  const top = stmt.tx.statements.filter((s) => !s.parent);
  return top.slice(0, top.indexOf(stmt)).filter((s) => s.type === 'VariableSetStmt' && s.f.is_local);
}

function endsWith(tx: Transaction, kind: string): boolean {
  const top = tx.statements.filter((s) => !s.parent);
  const last = top[top.length - 1];
  return !!last && last.type === 'TransactionStmt' && last.f.kind === kind;
}

function endsWithCommit(tx: Transaction): boolean {
  return endsWith(tx, 'TRANS_STMT_COMMIT');
}

/** True when a statement is the first one after its transaction's explicit BEGIN. */
function firstAfterBegin(stmt: Stmt): boolean {
  const top = stmt.tx.statements.filter((s) => !s.parent);
  return stmt.tx.kind === 'explicit' && top.length > 1 && top[0].type === 'TransactionStmt' && top[1] === stmt;
}

/** A newline to write before inserted text when the insertion point is not at a line start. */
function sep(text: string, at: number): string {
  return at === 0 || text[at - 1] === '\n' ? '' : '\n';
}

function lineStart(text: string, at: number): number {
  let i = at;
  while (i > 0 && (text[i - 1] === ' ' || text[i - 1] === '\t')) i--;
  return i === 0 || text[i - 1] === '\n' ? i : at;
}

/** Index after the rest of the line from `i` when only spaces or a line comment follow, else `i`. */
function lineTail(text: string, i: number): number {
  const nl = text.indexOf('\n', i);
  const rest = nl === -1 ? text.slice(i) : text.slice(i, nl);
  if (rest.trim() === '' || rest.trim().startsWith('--')) return nl === -1 ? text.length : nl + 1;
  return i;
}

/** Index after the spaces and tabs from `i`. */
function spacesAfter(text: string, i: number): number {
  while (i < text.length && (text[i] === ' ' || text[i] === '\t')) i++;
  return i;
}

function applyEdits(text: string, edits: Edit[]): string {
  // Insertions at one place keep the order in which they were planned.
  const sorted = edits.map((e, i) => ({ e, i })).sort((a, b) => a.e.start - b.e.start || a.e.end - b.e.end || a.i - b.i);
  let out = '';
  let pos = 0;
  for (const { e } of sorted) {
    if (e.start < pos) continue; // overlapping edits: keep the first
    out += text.slice(pos, e.start) + e.text;
    pos = e.end;
  }
  return out + text.slice(pos);
}

/** The text of a new migration's statements; goose needs StatementBegin / End around a statement holding semicolons. */
function body(g: { sqls: string[]; raw?: boolean }, goose: boolean): string {
  if (g.raw) return g.sqls.join('\n');
  return g.sqls.map((s) => (goose && s.includes(';') ? `-- +goose StatementBegin\n${s};\n-- +goose StatementEnd` : `${s};`)).join('\n');
}

/** Name and contents of one new migration file, placed right after `original` in the runner's order. */
function placeNewFile(original: string, runner: string, g: { sqls: string[]; noTx: boolean; raw?: boolean }, k: number, taken: Set<string>): NewFile | undefined {
  const orig = original.replace(/\\/g, '/');
  const dir = path.posix.dirname(orig);
  const base = path.posix.basename(orig);
  const join = (name: string): string => (dir === '.' ? name : path.posix.join(dir, name));
  const header = `-- Written by pgd-lint --fix: step ${k} of the rewrite of ${base}, ${g.noTx ? 'outside any transaction block' : 'in a transaction of its own'}.\n`;
  switch (runner) {
    case 'flyway': {
      const m = /^([Vv])([^_]*(?:_[^_]+)*?)__(.*)\.sql$/.exec(base);
      if (!m) return undefined;
      const version = freeFlywayVersion(m[2], dir, taken);
      if (!version) return undefined;
      const p = join(`V${version}__${m[3]}_pgd_lint_step${k}.sql`);
      return { path: p, text: header + body(g, false) + '\n', conf: g.noTx ? 'executeInTransaction=false\n' : undefined };
    }
    case 'goose':
    case 'dbmate': {
      const m = /^(\d+)(.*)\.sql$/.exec(base);
      if (!m) return undefined;
      const version = nextFreeVersion(m[1], dir, taken);
      if (!version) return undefined;
      const p = join(`${version}${m[2]}_pgd_lint_step${k}.sql`);
      if (runner === 'goose') {
        return { path: p, text: `${g.noTx ? '-- +goose NO TRANSACTION\n' : ''}-- +goose Up\n${header}${body(g, true)}\n\n-- +goose Down\n` };
      }
      return { path: p, text: `-- migrate:up${g.noTx ? ' transaction:false' : ''}\n${header}${body(g, false)}\n\n-- migrate:down\n` };
    }
    case 'golang-migrate': {
      const m = /^(\d+)(_.*)\.up\.sql$/i.exec(base);
      if (!m) return undefined;
      const version = nextFreeVersion(m[1], dir, taken);
      if (!version) return undefined;
      return { path: join(`${version}${m[2]}_pgd_lint_step${k}.up.sql`), text: header + body(g, false) + '\n' };
    }
    case 'prisma': {
      const folder = path.posix.basename(dir);
      const m = /^(\d+)(.*)$/.exec(folder);
      if (!m || base !== 'migration.sql') return undefined;
      const parent = path.posix.dirname(dir);
      const version = nextFreeVersion(m[1], parent, taken, true);
      if (!version) return undefined;
      const name = `${version}${m[2]}_pgd_lint_step${k}`;
      return { path: parent === '.' ? `${name}/migration.sql` : path.posix.join(parent, name, 'migration.sql'), text: header + body(g, false) + '\n' };
    }
    default:
      return undefined;
  }
}

/** Flyway: `<version>.<n>` for the first n whose version no other migration of the folder has. */
function freeFlywayVersion(version: string, dir: string, taken: Set<string>): string | undefined {
  const key = (v: string): string => {
    const parts = v.replace(/_/g, '.').split('.').filter((p) => p !== '').map((p) => String(Number(p)));
    while (parts.length > 1 && parts[parts.length - 1] === '0') parts.pop();
    return parts.join('.');
  };
  const used = new Set<string>();
  for (const p of taken) {
    if (path.posix.dirname(p) !== dir) continue;
    const m = /^[VvUu]([^_]*(?:_[^_]+)*?)__/.exec(path.posix.basename(p));
    if (m) used.add(key(m[1]));
  }
  for (let n = 1; n < 1000; n++) {
    const v = `${version}.${n}`;
    if (!used.has(key(v))) return v;
  }
  return undefined;
}

/** The first integer version after `version` that no other migration uses, below the next one (same digit count). */
function nextFreeVersion(version: string, dir: string, taken: Set<string>, folders = false): string | undefined {
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
    if (n > v && !placedPaths.has(p) && (next === undefined || n < next)) next = n;
  }
  let candidate = v + 1n;
  while (used.has(candidate)) candidate += 1n;
  if (next !== undefined && candidate >= next) return undefined;
  return candidate.toString().padStart(version.length, '0');
}
