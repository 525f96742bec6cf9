/**
 * SQL for the multi-step rewrites of column changes (spec §5.1, §5.2, §5.3, §7.4): batched
 * backfills that commit per batch, the NOT NULL-through-a-CHECK route, and names for the helper
 * objects. Shared by no-add-column-volatile-default, no-rewriting-alter-type and no-set-not-null.
 */
import { QualifiedName, formatName, quoteIdent, quoteLiteral, rangeVarName } from './ast';
import type { Table } from './catalog';
import type { FixMode, FixStep, StatementContext } from './rule';
import { Target } from './targets';

/** A table as the rewritten SQL names it. */
export interface TableRef {
  q: QualifiedName;
  /** SQL name, quoted where needed (`app."Orders"`). */
  sql: string;
  /** A string literal of the name, for regclass arguments (`'app."Orders"'`). */
  literal: string;
}

export function tableRef(q: QualifiedName): TableRef {
  const sql = formatName(q);
  return { q, sql, literal: quoteLiteral(sql) };
}

/**
 * The table an ALTER TABLE statement changes, for the rules about its columns: undefined for other
 * statements, ALTER of other relation kinds, and temporary tables (never replicated). `isNew`: the
 * table was created earlier in this file (still empty).
 */
export function alteredTable(ctx: StatementContext): { q: QualifiedName; table: Table | undefined; isNew: boolean } | undefined {
  const { stmt } = ctx;
  if (stmt.type !== 'AlterTableStmt') return undefined;
  if (stmt.f.objtype && stmt.f.objtype !== 'OBJECT_TABLE') return undefined;
  const rel = stmt.f.relation;
  const q = rangeVarName(rel);
  const table = ctx.table(q);
  if (rel?.relpersistence === 't' || (q.schema ?? '').startsWith('pg_temp') || table?.persistence === 'temp') return undefined;
  return { q, table, isNew: ctx.isNewTable(table) };
}

/**
 * alteredTable() for the changes BDR 1 / PGD refuse on a replicated table (ADD COLUMN with a
 * DEFAULT, a rewriting ALTER COLUMN TYPE): undefined also for a table created earlier in this file
 * (still empty: the change costs nothing), except on BDR 1, whose command filter refuses it on
 * every permanent table, empty or not (spec §7.4), and for an unlogged table, which is not
 * replicated before PGD 6.
 */
export function refusedOnTable(ctx: StatementContext): { q: QualifiedName; table: Table | undefined; isNew: boolean } | undefined {
  const altered = alteredTable(ctx);
  if (!altered) return undefined;
  if (altered.isNew && ctx.target.family !== 'bdr1') return undefined;
  if (altered.table?.persistence === 'unlogged' && ctx.target.family !== 'pgd6') return undefined;
  return altered;
}

/**
 * A helper object's name as PostgreSQL's makeObjectName() builds it: `<table>_<column>_<suffix>`,
 * the longer of table and column clipped (whole characters) until the name fits in 63 bytes.
 * It is the name PostgreSQL itself gives a serial column's sequence (`<table>_<column>_seq`).
 */
export function helperName(table: string, column: string, suffix: string): string {
  const bytes = (s: string): number => Buffer.byteLength(s, 'utf8');
  const avail = 63 - bytes(suffix) - 2;
  let a = [...table];
  let b = [...column];
  while (bytes(a.join('')) + bytes(b.join('')) > avail) {
    if (bytes(a.join('')) >= bytes(b.join(''))) a = a.slice(0, -1);
    else b = b.slice(0, -1);
  }
  return `${a.join('')}_${b.join('')}_${suffix}`;
}

/** One step of a rewrite: the SQL, how it must run, and the comment shown above it. */
export interface Step {
  comment: string;
  sql: string;
  mode: FixMode;
}

/** Suggestion text for steps: each step under its `-- ` comment, SQL ending with `;`. */
export function stepsText(steps: Step[]): string {
  const out: string[] = [];
  for (const s of steps) {
    for (const line of s.comment.split('\n')) out.push(`-- ${line}`);
    out.push(`${s.sql};`);
  }
  return out.join('\n');
}

export function fixSteps(steps: Step[]): FixStep[] {
  return steps.map((s) => ({ sql: s.sql, mode: s.mode }));
}

/** Primary key columns the catalog knows for a table (for batching by key instead of ctid). */
export function primaryKeyColumns(table: Table | undefined): string[] | undefined {
  if (!table) return undefined;
  for (const c of table.constraints.values()) if (c.kind === 'primary' && c.columns.length > 0) return c.columns;
  return undefined;
}

/** Whether the target's PostgreSQL lets a DO block COMMIT (PostgreSQL 11+: not BDR 1's 9.4–9.6). */
export function canCommitInDo(target: Target): boolean {
  return target.family !== 'bdr1';
}

function dollarTag(body: string, tag: string): string {
  let t = tag;
  for (let i = 1; body.includes(`$${t}$`); i++) t = `${tag}${i}`;
  return `$${t}$`;
}

export interface BackfillOptions {
  target: Target;
  table: TableRef;
  /** The SET list of the UPDATE (`c = DEFAULT`). */
  set: string;
  /** The condition of rows still to do (`c IS NULL`). */
  pending: string;
  batchSize: number;
  /** Primary key columns, when known: batches are picked by key instead of by ctid. */
  key?: string[];
  /** What is backfilled, for the comments ("the new column \"c\""). */
  what: string;
}

/** The UPDATE of one batch. */
function batchUpdate(o: BackfillOptions): string {
  const t = o.table.sql;
  if (o.key && o.key.length > 0) {
    const cols = o.key.map(quoteIdent);
    const k = cols.length === 1 ? cols[0] : `(${cols.join(', ')})`;
    return `UPDATE ${t} SET ${o.set} WHERE ${k} IN (SELECT ${cols.join(', ')} FROM ${t} WHERE ${o.pending} LIMIT ${o.batchSize})`;
  }
  return `UPDATE ${t} SET ${o.set} WHERE ctid = ANY (ARRAY(SELECT ctid FROM ${t} WHERE ${o.pending} LIMIT ${o.batchSize}))`;
}

/**
 * The batched backfill. On PGD / BDR 3: one DO block that commits per batch and runs the last batch
 * in the transaction that takes `bdr.global_lock_table()` (spec §5.1). On BDR 1 (no COMMIT in DO, no
 * global_lock_table): the batch UPDATE repeated, each in its own transaction, and a last pass.
 */
export function backfillSteps(o: BackfillOptions): Step[] {
  const t = o.table.sql;
  const batch = batchUpdate(o);
  if (!canCommitInDo(o.target)) {
    return [
      {
        comment:
          `own transaction, repeated until it reports UPDATE 0 (BDR 1 runs PostgreSQL 9.4–9.6: a DO block cannot COMMIT per batch):\n` +
          `backfills ${o.what} ${o.batchSize} rows at a time`,
        sql: batch,
        mode: 'own-transaction',
      },
      {
        comment:
          `own transaction, once more after replication from every node has caught up: BDR 1 has no global lock to close the window\n` +
          `in which rows written on other nodes before they applied the change still arrive with NULL (spec §7.4)`,
        sql: `UPDATE ${t} SET ${o.set} WHERE ${o.pending}`,
        mode: 'own-transaction',
      },
    ];
  }
  const body = [
    'DECLARE',
    '  batch_rows bigint;',
    'BEGIN',
    '  LOOP',
    `    ${batch};`,
    '    GET DIAGNOSTICS batch_rows = ROW_COUNT;',
    '    COMMIT;',
    `    EXIT WHEN batch_rows < ${o.batchSize};`,
    '  END LOOP;',
    '  -- the last batch runs in the transaction that holds the global DML lock, so that rows written',
    '  -- concurrently on other nodes are not missed (spec §5.1)',
    `  PERFORM bdr.global_lock_table(${o.table.literal});`,
    `  UPDATE ${t} SET ${o.set} WHERE ${o.pending};`,
    '  COMMIT;',
    'END',
  ].join('\n');
  const tag = dollarTag(body, 'backfill');
  const pg11 = o.target.family === 'bdr3' ? ' (COMMIT inside DO needs PostgreSQL 11+; on older servers run the UPDATE batch repeatedly, one transaction each)' : '';
  return [
    {
      comment:
        `outside any transaction block (not in BEGIN ... COMMIT, not in a runner's transaction): backfills ${o.what} in batches of ${o.batchSize},\n` +
        `committing each batch${pg11}`,
      sql: `DO ${tag}\n${body}\n${tag}`,
      mode: 'outside-transaction',
    },
  ];
}

export interface NotNullOptions {
  target: Target;
  table: TableRef;
  column: string;
  /** How the first step runs: `in-place` when it replaces a SET NOT NULL, `own-transaction` after a backfill. */
  firstMode: FixMode;
}

/**
 * SET NOT NULL without the long scan (PGD / BDR 3): a CHECK (c IS NOT NULL) NOT VALID, VALIDATE in its
 * own transaction, then SET NOT NULL (PostgreSQL 12+ proves it from the validated CHECK and skips the
 * scan), then DROP the CHECK (spec §5.2, §9.7).
 */
export function notNullViaCheck(o: NotNullOptions): Step[] {
  const t = o.table.sql;
  const c = quoteIdent(o.column);
  const con = quoteIdent(helperName(o.table.q.name, o.column, 'not_null'));
  const first = o.firstMode === 'in-place' ? 'in place' : 'own transaction';
  return [
    {
      comment: `${first}: a NOT VALID CHECK does not scan the table and takes only the global DDL lock (spec §5.2)`,
      sql: `ALTER TABLE ${t} ADD CONSTRAINT ${con} CHECK (${c} IS NOT NULL) NOT VALID`,
      mode: o.firstMode,
    },
    {
      comment: 'own transaction: VALIDATE scans the table without blocking writes (global DDL lock only)',
      sql: `ALTER TABLE ${t} VALIDATE CONSTRAINT ${con}`,
      mode: 'own-transaction',
    },
    {
      comment: 'own transaction, after the VALIDATE has committed: PostgreSQL 12+ proves NOT NULL from the validated CHECK and skips the scan',
      sql: `ALTER TABLE ${t} ALTER COLUMN ${c} SET NOT NULL`,
      mode: 'own-transaction',
    },
    {
      comment: 'same transaction as SET NOT NULL or later: the CHECK is now redundant',
      sql: `ALTER TABLE ${t} DROP CONSTRAINT ${con}`,
      mode: 'own-transaction',
    },
  ];
}
