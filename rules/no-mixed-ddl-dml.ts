/**
 * no-mixed-ddl-dml: a transaction that holds the global DDL lock and also changes rows.
 * Spec §1 [P5-MG]: the global DDL lock is taken "the first time in a transaction where schema
 * changes are made" and held until the transaction ends; the PGD docs: "make transactions
 * performing DDL short. Don't combine them with lots of row changes". §7.1 [FED]: with a runner
 * that wraps the migration in one transaction, the lock is held for the whole migration.
 */
import type { Stmt, Transaction } from '../src/model';
import type { Facts } from '../src/pgd';
import type { Rule, TransactionContext } from '../src/rule';
import { commandTag } from '../src/stmt-tag';
import { productName } from '../src/targets';

const DEFAULT_BUDGET = 100;
/** Statements shown per step of the suggestion before "... and N more". */
const SHOWN = 4;

export const rule: Rule = {
  meta: {
    id: 'no-mixed-ddl-dml',
    description: 'A transaction that holds the global DDL lock and also changes rows (UPDATE, DELETE, MERGE, COPY, INSERT ... SELECT, many INSERT rows)',
    severity: () => 'warning',
    fixable: true,
    spec: ['§1', '§2.2', '§7.1'],
    options: {
      maxInsertRows: {
        type: 'number',
        default: DEFAULT_BUDGET,
        description: 'Single-row INSERT rows (each row of a multi-row VALUES counts) allowed in a transaction that holds the global DDL lock',
      },
    },
  },
  transaction(ctx) {
    const { tx } = ctx;
    if (tx.kind === 'remote') return;
    const budgetOption = Number(ctx.options.maxInsertRows);
    const budget = Number.isFinite(budgetOption) && budgetOption >= 0 ? budgetOption : DEFAULT_BUDGET;

    const stmts = tx.statements.filter((s) => s.executed && s.node);
    const lockOf = (s: Stmt): Facts['lock'] => {
      const f = ctx.factsOf(s);
      if (!f) return 'none';
      // BDR 1's bdr.bdr_replicate_ddl_command() does not take the global DDL lock (§7.1).
      if (ctx.target.family === 'bdr1' && s.via === 'bdr_replicate_ddl_command') return 'none';
      return f.lock;
    };
    const locking = stmts.filter((s) => lockOf(s) !== 'none');
    if (locking.length === 0) return;
    const first = locking[0];
    const dmlLock = locking.find((s) => lockOf(s) === 'dml');

    // Row changes, in run order; the finding points at the first one that makes the transaction mixed.
    const bulk = new Map<string, number>();
    let insertRows = 0;
    let at: Stmt | undefined;
    for (const s of stmts) {
      const f = ctx.factsOf(s);
      if (!f || f.bookkeeping) continue;
      if (f.rows.kind === 'bulk') {
        bulk.set(f.rows.verb, (bulk.get(f.rows.verb) ?? 0) + 1);
        at ??= s;
      } else if (f.rows.kind === 'insert') {
        insertRows += f.rows.count;
        if (insertRows > budget) at ??= s;
      }
    }
    if (!at) return;

    const parts = [...bulk].map(([verb, n]) => `${n} ${verb}`);
    if (insertRows > budget) parts.push(`${insertRows} single-row INSERT rows (more than the budget of ${budget})`);
    else if (insertRows > 0) parts.push(`${insertRows} single-row INSERT row${insertRows === 1 ? '' : 's'}`);

    const line = (s: Stmt): number => s.file.source.position(s.start).line;
    const product = productName(ctx.target);
    const firstTag = commandTag(first.node);
    const bdr1 = ctx.target.family === 'bdr1';
    const ddlLock = bdr1 ? "BDR 1's global DDL lock" : 'the global DDL lock';
    let message =
      `This transaction holds ${ddlLock} (taken by ${firstTag} at line ${line(first)}) and also changes rows: ${parts.join(', ')}. ` +
      `${product} keeps the lock until the transaction ends, so no other DDL can run on any node while the rows are written`;
    if (dmlLock) {
      const writes = bdr1
        ? "BDR 1's global lock in write mode: writes stop on every node"
        : ctx.target.family === 'pgd6'
          ? 'the leader DML lock: writes to the table stop on the write leaders'
          : 'the global DML lock: writes to the table stop on every node';
      message += `, and ${commandTag(dmlLock.node)} at line ${line(dmlLock)} holds ${writes}, for as long`;
    }
    if (tx.kind === 'runner') message += ' (the migration runner wraps the whole file in this transaction)';
    message += '; keep DDL transactions short and move the data change to a transaction of its own';

    // --fix splits the transaction where the suggestion does, unless a DO block mixes both.
    const groups = groupsOf(ctx, tx);
    const splittable = groups.length > 1 && groups.every((g) => g.kind !== 'mixed');
    ctx.report(at, {
      message,
      suggestion: suggestion(ctx, tx),
      span: { start: at.start, end: at.end },
      fix: splittable ? { steps: [], keepOriginal: true, splitBefore: groups.slice(1).map((g) => g.stmts[0]) } : undefined,
    });
  },
};

type Kind = 'ddl' | 'dml' | 'other' | 'mixed';

/** What a top-level statement (with the statements of its DO block) does. */
function kindOf(ctx: TransactionContext, top: Stmt, all: Stmt[]): Kind {
  const inner = all.filter((s) => s === top || isInside(s, top));
  let ddl = false;
  let dml = false;
  for (const s of inner) {
    const f = ctx.factsOf(s);
    if (!f) continue;
    if (f.lock !== 'none' || f.ddl) ddl = true;
    if (f.rows.kind !== 'none' && !f.bookkeeping) dml = true;
  }
  if (ddl && dml) return 'mixed';
  return ddl ? 'ddl' : dml ? 'dml' : 'other';
}

function isInside(s: Stmt, outer: Stmt): boolean {
  for (let p = s.parent; p; p = p.parent) if (p === outer) return true;
  return false;
}

function text(s: Stmt): string {
  const t = s.file.source.text.slice(s.start, s.end).trim();
  return t.endsWith(';') ? t : `${t};`;
}

/** The top-level statements of a transaction in run order, grouped into schema changes and data changes. */
function groupsOf(ctx: TransactionContext, tx: Transaction): Array<{ kind: Kind; stmts: Stmt[] }> {
  const all = tx.statements.filter((s) => s.executed && s.node);
  const tops = all.filter((s) => !s.parent && s.type !== 'TransactionStmt');
  const groups: Array<{ kind: Kind; stmts: Stmt[] }> = [];
  for (const s of tops) {
    const k = kindOf(ctx, s, all);
    const last = groups[groups.length - 1];
    if (last && (k === 'other' || k === last.kind || last.kind === 'other') && k !== 'mixed' && last.kind !== 'mixed') {
      last.stmts.push(s);
      if (last.kind === 'other') last.kind = k;
    } else {
      groups.push({ kind: k, stmts: [s] });
    }
  }
  return groups;
}

/** The transaction split in run order: schema changes and data changes in separate transactions. */
function suggestion(ctx: TransactionContext, tx: Transaction): string {
  const all = tx.statements.filter((s) => s.executed && s.node);
  const groups = groupsOf(ctx, tx);
  const separateFiles = tx.kind === 'runner';
  const lines: string[] = [];
  if (separateFiles) {
    lines.push('-- Split the migration: the runner runs each file in one transaction, so put the schema change and the data change in separate migration files, in this order:');
  } else if (tx.kind === 'implicit') {
    lines.push(
      '-- Split the transaction, keeping the order: the whole file is sent as one query (one implicit transaction);',
      '-- explicit BEGIN / COMMIT inside it end that transaction, or put each step in a migration file of its own:',
    );
  } else {
    lines.push('-- Split the transaction, keeping the order: each step below in a transaction of its own, after the previous one has committed:');
  }
  groups.forEach((g, i) => {
    const what =
      g.kind === 'ddl'
        ? 'the schema change (short: it holds the global DDL lock)'
        : g.kind === 'dml'
          ? 'the data change (for a big table, in batches of a few thousand rows, one transaction per batch)'
          : g.kind === 'mixed'
            ? 'this DO block both changes the schema and writes rows: split its body into one DO block per step, the schema change first'
            : 'statements that neither change the schema nor write rows';
    lines.push(separateFiles ? `-- migration ${i + 1}: ${what}` : `-- step ${i + 1}, own transaction: ${what}`);
    if (g.kind === 'mixed') {
      // Show the block's statements by what they do, as a guide to splitting its body.
      for (const top of g.stmts) {
        for (const inner of all.filter((s) => isInside(s, top) && !all.some((o) => o !== top && isInside(s, o) && isInside(o, top)))) {
          const k = kindOf(ctx, inner, all);
          const label = k === 'ddl' ? 'schema change' : k === 'dml' ? 'data change' : 'other';
          lines.push(`--   ${label}: ${text(inner).replace(/\s*\n\s*/g, ' ')}`);
        }
      }
    }
    if (!separateFiles) lines.push('BEGIN;');
    for (const s of g.stmts.slice(0, SHOWN)) lines.push(text(s));
    if (g.stmts.length > SHOWN) lines.push(`-- ... and ${g.stmts.length - SHOWN} more statement${g.stmts.length - SHOWN === 1 ? '' : 's'} like these`);
    if (!separateFiles) lines.push('COMMIT;');
  });
  return lines.join('\n');
}
