/**
 * The linter: replays the model in run order, keeping the catalog and the session, and runs the
 * rules on every statement, transaction and the run's end. Findings then go through the ignore
 * directives and the configured severities.
 */
import { Catalog, Origin, Table } from './catalog';
import { FileModel, InputFile, RunModel, Stmt, Transaction, buildModel } from './model';
import { Facts, Session, classify } from './pgd';
import { SYNTAX_ERROR, UNUSED_IGNORE, allRules } from './registry';
import type { Fix, Report, Rule, Severity, SeverityOrOff } from './rule';
import { RunnerPreset } from './runners';
import { Target } from './targets';
import { fields, strVal } from './ast';

export interface LintOptions {
  target: Target;
  runner: RunnerPreset;
  includeDown: boolean;
  /** Severity overrides by rule id (config file and --rule). */
  severities: Record<string, SeverityOrOff>;
  /** Options by rule id. */
  ruleOptions: Record<string, Record<string, unknown>>;
  /** The rules to run (default: every rule in rules/). */
  rules?: Rule[];
  /** Called after each file has been replayed and checked (the CLI's progress line). */
  progress?: (done: number, total: number) => void;
}

export interface Finding {
  ruleId: string;
  severity: Severity;
  message: string;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  suggestion?: string;
  fixable: boolean;
  /** Suppressed by a directive (kept for SARIF; not counted). */
  suppressed?: string;
  /** String index range in the file. */
  start: number;
  end: number;
  /** The statement, when the finding is about one. */
  stmt?: Stmt;
  fix?: Fix;
}

export interface FileResult {
  path: string;
  file: FileModel;
  findings: Finding[];
}

export interface LintResult {
  target: Target;
  model: RunModel;
  files: FileResult[];
  /** What PGD does with each replayed statement on the target (hover in the language server). */
  facts: Map<Stmt, Facts>;
}

/** The severity a rule has on the target after overrides. */
export function effectiveSeverity(id: string, natural: SeverityOrOff, opts: LintOptions): SeverityOrOff {
  const o = opts.severities[id];
  return o ?? natural;
}

export function lint(inputs: InputFile[], opts: LintOptions): LintResult {
  const model = buildModel(inputs, { runner: opts.runner, includeDown: opts.includeDown });
  const results = new Map<FileModel, Finding[]>();
  for (const f of model.files) results.set(f, []);

  const active: Array<{ rule: Rule; severity: Severity; options: Record<string, unknown> }> = [];
  for (const rule of opts.rules ?? allRules()) {
    const sev = effectiveSeverity(rule.meta.id, rule.meta.severity(opts.target), opts);
    if (sev === 'off') continue;
    const options: Record<string, unknown> = {};
    for (const [k, spec] of Object.entries(rule.meta.options ?? {})) options[k] = spec.default;
    Object.assign(options, opts.ruleOptions[rule.meta.id] ?? {});
    active.push({ rule, severity: sev, options });
  }

  const push = (ruleId: string, severity: Severity, stmt: Stmt | undefined, file: FileModel, r: Report, fixedSeverity = false): void => {
    if (!file.report || (stmt && stmt.down)) return;
    const start = r.span?.start ?? stmt?.start ?? 0;
    const end = r.span?.end ?? stmt?.end ?? start;
    const s = file.source.position(start);
    const e = file.source.position(Math.max(start, end));
    // A rule's per-finding severity applies unless the user set the rule's severity.
    const override = fixedSeverity ? undefined : opts.severities[ruleId];
    const sev: Severity = override === 'error' || override === 'warning' ? override : severity;
    results.get(file)!.push({
      ruleId,
      severity: sev,
      message: r.message,
      line: s.line,
      column: s.column,
      endLine: e.line,
      endColumn: e.column,
      suggestion: r.suggestion,
      fixable: r.fix !== undefined,
      start,
      end,
      stmt,
      fix: r.fix,
    });
  };

  /**
   * A rule that throws (a bug, or input deeper than a walker can take) does not end the run: the
   * statement gets a warning under the rule's id, and the other rules and statements go on.
   */
  const couldNotCheck = (ruleId: string, stmt: Stmt, err: unknown, what = 'this statement'): void => {
    push(ruleId, 'warning', stmt, stmt.file, { message: `pgd-lint could not check ${what} with ${ruleId}: ${errorMessage(err)}`, span: { start: stmt.start, end: stmt.end } }, true);
  };

  const catalog = new Catalog();
  const facts = new Map<Stmt, Facts>();
  const factsOf = (s: Stmt): Facts | undefined => facts.get(s);
  const session: Session = { ddlReplicationOff: false, ddlLockingOff: false };
  const txMarks = new Map<Transaction, { start: number; savepoints: Map<string, number>; created: Set<Table>; local: Partial<Session> }>();
  const created = new Map<Table, Transaction>();

  const syntaxSeverity = effectiveSeverity(SYNTAX_ERROR.id, 'error', opts);
  const tracker = new CatalogTracker(catalog);

  for (const file of model.files) {
    opts.progress?.(file.index, model.files.length);
    catalog.setSearchPath(['public']);
    session.ddlReplicationOff = false;
    session.ddlLockingOff = false;
    // Each file runs in a session of its own: the previous file's temporary objects are gone.
    catalog.dropTemporary();
    for (const stmt of file.statements) {
      if (!stmt.executed) continue;
      const tx = stmt.tx;
      let mark = txMarks.get(tx);
      if (!mark) {
        mark = { start: catalog.mark(), savepoints: new Map(), created: new Set(), local: {} };
        txMarks.set(tx, mark);
      }
      if (stmt.error) {
        if (syntaxSeverity !== 'off') {
          push(SYNTAX_ERROR.id, syntaxSeverity, stmt, file, { message: `Syntax error: ${stmt.error.message}`, span: { start: stmt.error.index, end: stmt.error.index } });
        }
      } else if (stmt.node) {
        const isNewTable = (t: Table | undefined): boolean => !!t && t.origin.fileIndex === file.index;
        const createdInTx = (t: Table | undefined): boolean => !!t && created.get(t) === tx;
        const f = classify(stmt.node, {
          target: opts.target,
          catalog,
          session,
          remote: stmt.tx.kind === 'remote',
          createdInTx: (t) => createdInTx(t),
        });
        facts.set(stmt, f);
        if (f.lock !== 'none' && !tx.firstLock) tx.firstLock = stmt;
        if (file.report && !stmt.down) {
          for (const a of active) {
            if (!a.rule.statement) continue;
            try {
              a.rule.statement({
                target: opts.target,
                options: a.options,
                model,
                file,
                stmt,
                catalog,
                facts: f,
                session,
                factsOf,
                isNewTable,
                createdInTx,
                table: (q) => catalog.table(q),
                at: (loc) => (typeof loc === 'number' && loc >= 0 ? stmt.at(loc) : stmt.start),
                report: (r) => push(a.rule.meta.id, r.severity ?? a.severity, stmt, file, r),
              });
            } catch (err) {
              couldNotCheck(a.rule.meta.id, stmt, err);
            }
          }
        }
        // A down section (goose Down, dbmate down, .down.sql, ...) is not part of the forward run:
        // it must not drop or change what the up migrations created.
        // A statement the catalog cannot take is left out of the replay; the run goes on.
        if (!stmt.down) {
          try {
            applyStatement(stmt, catalog, session, mark, created, tx, tracker);
          } catch {
            /* skipped for the catalog */
          }
        }
      }
      if (tx.statements[tx.statements.length - 1] === stmt) {
        endTransaction(tx, stmt, catalog, session, mark, created);
        for (const a of active) {
          if (!a.rule.transaction) continue;
          try {
            a.rule.transaction({
              target: opts.target,
              options: a.options,
              model,
              tx,
              catalog,
              factsOf,
              report: (s, r) => push(a.rule.meta.id, r.severity ?? a.severity, s, s.file, r),
            });
          } catch (err) {
            couldNotCheck(a.rule.meta.id, tx.statements.find((s) => s.file.report) ?? stmt, err, 'this transaction');
          }
        }
      }
    }
  }
  for (const a of active) {
    if (!a.rule.end) continue;
    try {
      a.rule.end({
        target: opts.target,
        options: a.options,
        model,
        catalog,
        report: (s, r) => push(a.rule.meta.id, r.severity ?? a.severity, s, s.file, r),
      });
    } catch (err) {
      const file = model.files.find((f) => f.report && f.statements.length > 0);
      if (file) couldNotCheck(a.rule.meta.id, file.statements[file.statements.length - 1], err, 'the migrations');
    }
  }

  const files: FileResult[] = [];
  const unusedSeverity = effectiveSeverity(UNUSED_IGNORE.id, 'warning', opts);
  const known = new Set([...(opts.rules ?? allRules()).map((r) => r.meta.id), SYNTAX_ERROR.id, UNUSED_IGNORE.id]);
  const enabled = new Set([...active.map((a) => a.rule.meta.id), ...(syntaxSeverity !== 'off' ? [SYNTAX_ERROR.id] : [])]);
  for (const file of model.files) {
    if (!file.report) continue;
    const findings = results.get(file)!;
    applyDirectives(file, findings);
    if (unusedSeverity !== 'off') {
      for (const d of file.directives) {
        for (const id of d.ids) {
          if (!known.has(id)) {
            findings.push(directiveFinding(file, d, unusedSeverity, `Ignore directive names unknown rule "${id}"`));
          } else if (!d.used.has(id) && enabled.has(id)) {
            findings.push(directiveFinding(file, d, unusedSeverity, `Ignore directive for "${id}" suppresses nothing`));
          }
        }
      }
    }
    findings.sort((a, b) => a.start - b.start || a.line - b.line || a.column - b.column || (a.ruleId < b.ruleId ? -1 : 1));
    files.push({ path: file.path, file, findings });
  }
  return { target: opts.target, model, files, facts };
}

/** The first line of an error's message, without the stack. */
function errorMessage(err: unknown): string {
  const raw = err instanceof Error ? err.message : String(err);
  const line = raw.split('\n', 1)[0].trim();
  return line || (err instanceof Error ? err.name : 'unknown error');
}

function directiveFinding(file: FileModel, d: FileModel['directives'][number], severity: Severity, message: string): Finding {
  const e = file.source.position(d.end);
  return {
    ruleId: UNUSED_IGNORE.id,
    severity: severity,
    message,
    line: d.line,
    column: d.column,
    endLine: e.line,
    endColumn: e.column,
    fixable: false,
    start: d.start,
    end: d.end,
  };
}

/** Marks findings covered by a directive as suppressed, and the directive's ids as used. */
function applyDirectives(file: FileModel, findings: Finding[]): void {
  if (file.directives.length === 0) return;
  for (const f of findings) {
    for (const d of file.directives) {
      const matches = d.ids.length === 0 || d.ids.includes(f.ruleId);
      if (!matches) continue;
      let covers = d.file;
      if (!covers && d.stmt) {
        const s = d.stmt;
        covers = (f.start >= s.start && f.start <= s.end) || (!!f.stmt && (f.stmt === s || isInside(f.stmt, s)));
      }
      if (covers) {
        f.suppressed = d.file ? 'file directive' : 'directive';
        d.used.add(d.ids.length === 0 ? f.ruleId : f.ruleId);
        break;
      }
    }
  }
}

function isInside(s: Stmt, outer: Stmt): boolean {
  for (let p = s.parent; p; p = p.parent) if (p === outer) return true;
  return false;
}

type Mark = { start: number; savepoints: Map<string, number>; created: Set<Table>; local: Partial<Session> };

/**
 * Follows what the catalog puts under a key: the tables a statement adds (without a scan of every
 * table per statement).
 */
class CatalogTracker {
  private readonly put: Array<{ k: string; t: Table }> = [];
  private readonly seen = new WeakSet<Table>();

  constructor(private readonly catalog: Catalog) {
    catalog.onPut = (map, k, v) => {
      if (map === (catalog.tables as Map<string, unknown>)) this.put.push({ k, t: v as Table });
    };
  }

  /** Starts a statement. */
  begin(): void {
    this.put.length = 0;
  }

  /** The table objects the statement put in the catalog that were never in it before and still are. */
  added(): Table[] {
    const out: Table[] = [];
    for (const { k, t } of this.put) if (!this.seen.has(t) && this.catalog.tables.get(k) === t && !out.includes(t)) out.push(t);
    for (const { t } of this.put) this.seen.add(t);
    return out;
  }
}

function applyStatement(stmt: Stmt, catalog: Catalog, session: Session, mark: Mark, created: Map<Table, Transaction>, tx: Transaction, tracker: CatalogTracker): void {
  const f = stmt.f;
  if (stmt.type === 'TransactionStmt') {
    if (f.kind === 'TRANS_STMT_SAVEPOINT') mark.savepoints.set(f.savepoint_name, catalog.mark());
    else if (f.kind === 'TRANS_STMT_ROLLBACK_TO') {
      const m = mark.savepoints.get(f.savepoint_name);
      if (m !== undefined) catalog.rollbackTo(m);
    }
    return;
  }
  if (stmt.type === 'VariableSetStmt') applySetting(f, session, mark);
  const origin: Origin = { fileIndex: stmt.file.index, txId: tx.id, stmtId: stmt.id };
  tracker.begin();
  catalog.apply(stmt.node!, origin, { sequenceUsing: stmt.legacy.sequenceUsing });
  for (const t of tracker.added()) {
    created.set(t, tx);
    mark.created.add(t);
  }
}

const TRUE_WORDS = new Set(['on', 'true', 'yes', '1', 't', 'y']);

function applySetting(f: ReturnType<typeof fields>, session: Session, mark: Mark): void {
  const name = String(f.name ?? '').toLowerCase();
  const value = f.kind === 'VAR_SET_VALUE' ? (strVal(f.args?.[0]) ?? '').toLowerCase() : undefined;
  const set = (k: keyof Session, v: boolean): void => {
    if (f.is_local && !(k in mark.local)) mark.local[k] = session[k];
    session[k] = v;
  };
  if (name === 'bdr.ddl_replication') set('ddlReplicationOff', value !== undefined && !TRUE_WORDS.has(value));
  if (name === 'bdr.skip_ddl_replication') set('ddlReplicationOff', value !== undefined && TRUE_WORDS.has(value));
  if (name === 'bdr.ddl_locking') set('ddlLockingOff', value !== undefined && (value === 'off' || value === 'false'));
  if (name === 'bdr.skip_ddl_locking') set('ddlLockingOff', value !== undefined && TRUE_WORDS.has(value));
}

function endTransaction(tx: Transaction, last: Stmt, catalog: Catalog, session: Session, mark: Mark, created: Map<Table, Transaction>): void {
  const rolledBack = last.type === 'TransactionStmt' && (last.f.kind === 'TRANS_STMT_ROLLBACK');
  if (rolledBack) catalog.rollbackTo(mark.start);
  else if (tx.kind !== 'remote') {
    for (const t of mark.created) {
      if (t.onCommitDrop) catalog.tables.delete(`${t.schema}.${t.name}`);
    }
    catalog.commit();
  }
  for (const [k, v] of Object.entries(mark.local)) (session as unknown as Record<string, boolean>)[k] = v as boolean;
  void created;
  void tx;
}
