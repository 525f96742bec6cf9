/**
 * require-using-index: ADD PRIMARY KEY / UNIQUE on an existing table without USING INDEX (the
 * index is built under ACCESS EXCLUSIVE and, on PGD, the global DML lock); on BDR 1 also
 * ADD CONSTRAINT ... USING INDEX itself, which BDR 1 rejects on regular tables.
 * Spec §3 (ADD PRIMARY KEY / UNIQUE: DML lock; build the index concurrently first — inferred),
 * §2.2 (CREATE INDEX takes the DML lock), §5.4 (CONCURRENTLY), §7.1 (BDR 1 locks), §7.4 (BDR 1
 * rejects ADD CONSTRAINT ... USING INDEX; UPDATE/DELETE need a primary key).
 */
import { AstValue, fields, quoteIdent } from '../src/ast';
import type { Table } from '../src/catalog';
import { chooseName, constraintOf, nameAddition, relationNameTaken } from '../src/constraint-names';
import { exemptRelation, isTempRelation, laterTransactionPlace, outsideTransactionPlace, relationRef } from '../src/constraint-rewrite';
import type { RelationRef } from '../src/constraint-rewrite';
import { ColumnConstraint, columnConstraints } from '../src/constraint-validation';
import { shown } from '../src/describe';
import { describeLock } from '../src/pgd';
import type { FixStep, Rule, StatementContext } from '../src/rule';
import { clone, deparse, deparseOr, dollarQuote } from '../src/sqlgen';
import { writtenSql } from '../src/unsupported-local-ddl';
import { productName } from '../src/targets';

/** One PRIMARY KEY / UNIQUE constraint the statement adds by building a new index. */
interface Planned {
  kind: 'primary' | 'unique';
  /** Constraint and index name (PostgreSQL's default when the statement names none). */
  name: string;
  columns: string[];
  /** The constraint node (table-level form). */
  con: AstValue;
  /** Set when it is written on ADD COLUMN. */
  column?: string;
}

export const rule: Rule = {
  meta: {
    id: 'require-using-index',
    description:
      'ADD PRIMARY KEY / UNIQUE on an existing table without USING INDEX (builds the index under the global DML lock); on bdr1, ADD CONSTRAINT ... USING INDEX, which BDR 1 rejects',
    severity: () => 'error',
    fixable: true,
    spec: ['§3', '§2.2', '§5.4', '§7.1', '§7.4'],
  },
  statement(ctx) {
    const { stmt, target } = ctx;
    if (stmt.type !== 'AlterTableStmt' || stmt.f.objtype !== 'OBJECT_TABLE') return;
    const rel = relationRef(ctx, stmt.f.relation);
    const localOnly = isTempRelation(stmt.f.relation, rel.table) || rel.table?.persistence === 'unlogged';

    const usingIndex: Array<{ con: AstValue }> = [];
    const planned: Planned[] = [];
    const dropCmds = new Set<number>();
    const columnDrops = new Map<number, { cc: ColumnConstraint[] }>();
    const picked = new Set<string>();
    const taken = relationNameTaken(ctx.catalog, rel.table, rel.q.schema ?? ctx.catalog.creationSchema(rel.q), picked);
    const tableName = rel.table?.name ?? rel.q.name;

    (stmt.f.cmds ?? []).forEach((cmdNode: AstValue, i: number) => {
      const cmd = fields(cmdNode);
      if (cmd.subtype === 'AT_AddConstraint') {
        const con = constraintOf(cmd.def);
        if (!con || (con.contype !== 'CONSTR_PRIMARY' && con.contype !== 'CONSTR_UNIQUE')) return;
        if (con.indexname) {
          usingIndex.push({ con });
          return;
        }
        const kind = con.contype === 'CONSTR_PRIMARY' ? 'primary' : 'unique';
        const columns = (con.keys ?? []).map((k: AstValue) => k.String?.sval ?? '');
        const name: string = con.conname || defaultIndexName(tableName, kind, columns, taken);
        picked.add(name);
        planned.push({ kind, name, columns, con });
        dropCmds.add(i);
      } else if (cmd.subtype === 'AT_AddColumn') {
        const def = fields(cmd.def);
        const ccs = columnConstraints(def).filter((cc) => cc.con.contype === 'CONSTR_PRIMARY' || cc.con.contype === 'CONSTR_UNIQUE');
        if (ccs.length === 0) return;
        for (const cc of ccs) {
          const kind = cc.con.contype === 'CONSTR_PRIMARY' ? 'primary' : 'unique';
          const name: string = cc.con.conname || defaultIndexName(tableName, kind, [def.colname], taken);
          picked.add(name);
          const con = clone(cc.con);
          if (cc.deferrable) con.deferrable = true;
          if (cc.initdeferred) con.initdeferred = true;
          planned.push({ kind, name, columns: [def.colname], con, column: def.colname });
        }
        columnDrops.set(i, { cc: ccs });
      }
    });

    // BDR 1 rejects ADD CONSTRAINT ... USING INDEX on regular tables, new ones included (spec §7.4).
    if (usingIndex.length > 0 && target.family === 'bdr1' && !localOnly) reportRejected(ctx, rel, usingIndex);

    if (planned.length === 0 || exemptRelation(ctx, stmt.f.relation, rel.table)) return;

    // The statement without the constraints that build an index (kept in place).
    const rest = clone(stmt.node!);
    const rcmds: AstValue[] = rest.AlterTableStmt.cmds ?? [];
    for (const [i, { cc }] of columnDrops) {
      const rdef = fields(fields(rcmds[i]).def);
      const drop = new Set(cc.flatMap((c) => c.indices));
      const primary = cc.some((c) => c.con.contype === 'CONSTR_PRIMARY');
      rdef.constraints = (rdef.constraints ?? []).filter((_: AstValue, k: number) => !drop.has(k));
      // A primary key column is NOT NULL: keep that on the column.
      if (primary && !rdef.constraints.some((c: AstValue) => fields(c).contype === 'CONSTR_NOTNULL')) {
        rdef.constraints.push({ Constraint: { contype: 'CONSTR_NOTNULL' } });
      }
      if (rdef.constraints.length === 0) delete rdef.constraints;
    }
    rest.AlterTableStmt.cmds = rcmds.filter((_: AstValue, k: number) => !dropCmds.has(k));
    const restSql = rest.AlterTableStmt.cmds.length > 0 ? deparse(rest) : undefined;

    const indexSql = planned.map((p) => createIndexSql(stmt.f.relation, p));
    const special = planned.some((p) => p.con.without_overlaps) || !!rel.table?.partitioned;
    if (target.family === 'bdr1') reportBdr1(ctx, rel, planned, restSql, indexSql, special);
    else reportPgd(ctx, rel, planned, restSql, indexSql, special);
  },
};

/** PostgreSQL's index name for an unnamed constraint: `<table>_pkey`, `<table>_<cols>_key`. */
function defaultIndexName(table: string, kind: 'primary' | 'unique', columns: string[], taken: (n: string) => boolean): string {
  return kind === 'primary' ? chooseName(table, undefined, 'pkey', taken) : chooseName(table, nameAddition(columns) || undefined, 'key', taken);
}

/** CREATE UNIQUE INDEX CONCURRENTLY <name> ON <table> (<columns>) [INCLUDE ...] [NULLS NOT DISTINCT] [WITH ...] [TABLESPACE ...]. */
function createIndexSql(relation: AstValue, p: Planned): string {
  const elem = (name: string): AstValue => ({ IndexElem: { name, ordering: 'SORTBY_DEFAULT', nulls_ordering: 'SORTBY_NULLS_DEFAULT' } });
  const rv = clone(relation);
  rv.inh = true;
  delete rv.location;
  const node: AstValue = {
    IndexStmt: {
      idxname: p.name,
      relation: rv,
      accessMethod: 'btree',
      indexParams: p.columns.map(elem),
      unique: true,
      concurrent: true,
    },
  };
  if (p.con.including?.length) node.IndexStmt.indexIncludingParams = p.con.including.map((n: AstValue) => elem(n.String?.sval ?? ''));
  if (p.con.options?.length) node.IndexStmt.options = clone(p.con.options);
  if (p.con.indexspace) node.IndexStmt.tableSpace = p.con.indexspace;
  if (p.con.nulls_not_distinct) node.IndexStmt.nulls_not_distinct = true;
  return deparse(node);
}

/** ALTER TABLE <t> ADD CONSTRAINT <name> PRIMARY KEY|UNIQUE USING INDEX <name>, ... (built by hand: the deparser leaves the index name unquoted). */
function attachSql(rel: RelationRef, planned: Planned[]): string {
  const cmds = planned.map((p) => {
    const kw = p.kind === 'primary' ? 'PRIMARY KEY' : 'UNIQUE';
    let sql = `ADD CONSTRAINT ${quoteIdent(p.name)} ${kw} USING INDEX ${quoteIdent(p.name)}`;
    if (p.con.deferrable) sql += ' DEFERRABLE';
    if (p.con.initdeferred) sql += ' INITIALLY DEFERRED';
    return sql;
  });
  return `ALTER TABLE ${rel.sql} ${cmds.join(', ')}`;
}

function whatAdded(planned: Planned[]): string {
  return planned
    .map((p) => {
      const kw = p.kind === 'primary' ? 'PRIMARY KEY' : 'UNIQUE';
      if (p.column) return `ADD COLUMN "${p.column}" ... ${kw}`;
      return p.con.conname ? `ADD CONSTRAINT "${p.name}" ${kw}` : `ADD ${kw} (${p.columns.join(', ')})`;
    })
    .join(', ');
}

/** Columns of primary keys that the catalog does not know to be NOT NULL (the attach would scan for NULLs). */
function nullableKeyColumns(table: Table | undefined, planned: Planned[]): string[] {
  const out: string[] = [];
  for (const p of planned) {
    if (p.kind !== 'primary' || p.column) continue;
    for (const c of p.columns) if (!table?.columns.get(c)?.notNull && !out.includes(c)) out.push(c);
  }
  return out;
}

function wrapper(ctx: StatementContext): (sql: string) => string {
  const remote = !!ctx.stmt.via && ctx.stmt.via.startsWith('run_on_');
  return (sql) => (remote ? `SELECT bdr.run_on_all_nodes(${dollarQuote(sql)});` : `${sql};`);
}

function reportPgd(ctx: StatementContext, rel: RelationRef, planned: Planned[], restSql: string | undefined, indexSql: string[], special: boolean): void {
  const { stmt, facts, target } = ctx;
  const head = `${whatAdded(planned)} on existing table ${shown(rel.q)} without USING INDEX builds the index while holding an ACCESS EXCLUSIVE lock on the table (reads and writes wait)`;
  let consequence: string;
  if (facts.lock === 'dml') consequence = `, and on ${productName(target)} takes ${describeLock('dml', target)} for the whole build`;
  else if (facts.lock === 'ddl') consequence = `; on ${productName(target)} it takes ${describeLock('ddl', target)}, and every node that replays it builds the index again while the table is locked there`;
  else consequence = `; it takes no global lock here${facts.localReason ? ` (${facts.localReason})` : ''}, but the table is locked on every node where it runs, for the whole build`;
  const message = `${head}${consequence}. Build a unique index CONCURRENTLY first, then attach it with ADD CONSTRAINT ... USING INDEX`;

  const wrap = wrapper(ctx);
  const attach = attachSql(rel, planned);
  const lines: string[] = [];
  if (rel.table?.partitioned) {
    lines.push(
      `-- ${shown(rel.q)} is partitioned: PostgreSQL builds no index CONCURRENTLY on a partitioned table and has no USING INDEX for it.`,
      `-- 1. For each partition, ${outsideTransactionPlace(stmt)}: CREATE UNIQUE INDEX CONCURRENTLY <partition>_${planned[0].columns.join('_')}_idx ON <partition> (${planned[0].columns.map(quoteIdent).join(', ')});`,
      `-- 2. Then add the constraint to the parent: PostgreSQL attaches the partitions' matching indexes instead of building new ones.`,
      `${deparseOr(stmt.node!, () => writtenSql(stmt))};`,
    );
  } else {
    if (restSql) lines.push('-- 1. In place of this statement, without the constraint:', wrap(restSql));
    const n = restSql ? 2 : 1;
    lines.push(`-- ${n}. ${capitalize(outsideTransactionPlace(stmt))}: build the index without blocking writes (CONCURRENTLY is replicated; spec §5.4)`);
    for (const sql of indexSql) lines.push(wrap(sql));
    if (!restSql && !stmt.via) {
      lines.push(`--    or, as the PGD docs recommend for indexes (spec §5.4), on every node with DDL replication off:`);
      for (const sql of indexSql) lines.push(`--    SELECT bdr.run_on_all_nodes(${dollarQuote(sql)});`);
    }
    const nullable = nullableKeyColumns(rel.table, planned);
    if (nullable.length > 0) {
      lines.push(
        `-- (${nullable.map((c) => `"${c}"`).join(', ')} must be NOT NULL for a primary key: if ${nullable.length > 1 ? 'they are' : 'it is'} not yet, the next step scans the table under ACCESS EXCLUSIVE to set it;`,
        `--  add CHECK (${nullable.map((c) => `${quoteIdent(c)} IS NOT NULL`).join(' AND ')}) NOT VALID and VALIDATE it first, then SET NOT NULL: see no-set-not-null)`,
      );
    }
    lines.push(
      `-- ${n + 1}. ${restSql ? capitalize(laterTransactionPlace(stmt)) : 'In place of this statement'}: attach the index as the constraint (a short lock, no index build)`,
      wrap(attach),
    );
  }
  const fix = special || stmt.via ? undefined : { steps: plannedSteps(restSql, indexSql, [attach]) };
  ctx.report({ message, suggestion: lines.join('\n'), span: { start: stmt.start, end: stmt.end }, fix });
}

function plannedSteps(restSql: string | undefined, indexSql: string[], after: string[]): FixStep[] {
  const steps: FixStep[] = [];
  if (restSql) steps.push({ sql: restSql, mode: 'in-place' });
  for (const sql of indexSql) steps.push({ sql, mode: 'outside-transaction' });
  for (const sql of after) steps.push({ sql, mode: restSql ? 'own-transaction' : 'in-place' });
  return steps;
}

function reportBdr1(ctx: StatementContext, rel: RelationRef, planned: Planned[], restSql: string | undefined, indexSql: string[], special: boolean): void {
  const { stmt } = ctx;
  const message =
    `${whatAdded(planned)} on existing table ${shown(rel.q)} builds the index while holding an ACCESS EXCLUSIVE lock on the table (reads and writes wait), ` +
    `on this node and again on every node that replays it under BDR 1's global DDL lock (spec §7.1); BDR 1 rejects the usual remedy, ADD CONSTRAINT ... USING INDEX, on regular tables (spec §7.4): build a unique index CONCURRENTLY instead`;
  const wrap = wrapper(ctx);
  const primary = planned.find((p) => p.kind === 'primary');
  const after: string[] = [];
  if (primary) {
    const nullable = primary.column ? [] : primary.columns.filter((c) => !rel.table?.columns.get(c)?.notNull);
    const relSql = `ALTER TABLE ${rel.sql}`;
    if (nullable.length > 0) after.push(`${relSql} ${nullable.map((c) => `ALTER COLUMN ${quoteIdent(c)} SET NOT NULL`).join(', ')}`);
    after.push(`${relSql} REPLICA IDENTITY USING INDEX ${quoteIdent(primary.name)}`);
  }
  const lines: string[] = [];
  if (restSql) lines.push('-- 1. In place of this statement, without the constraint:', wrap(restSql));
  let n = restSql ? 2 : 1;
  lines.push(
    `-- ${n}. ${capitalize(outsideTransactionPlace(stmt))}: build the unique index (BDR 1 replicates CONCURRENTLY; for a unique index it still takes its global DDL lock in write mode, spec §7.1, §7.4)`,
  );
  for (const sql of indexSql) lines.push(wrap(sql));
  if (primary) {
    n++;
    lines.push(
      `-- ${n}. ${restSql ? capitalize(laterTransactionPlace(stmt)) : 'In place of this statement'}: the table gets no PRIMARY KEY constraint, but BDR 1 only checks for a replica identity index`,
      `--    to accept UPDATE and DELETE (otherwise: "Cannot run UPDATE or DELETE on table ${rel.q.name} because it does not have a primary key", spec §7.4).`,
      `--    A replica identity index needs NOT NULL columns${after.length > 1 ? ' (SET NOT NULL scans the table under ACCESS EXCLUSIVE)' : ''}:`,
    );
    for (const sql of after) lines.push(wrap(sql));
  } else {
    lines.push('-- The unique index enforces uniqueness like the constraint would, and foreign keys can reference its columns.');
  }
  const fix = special || stmt.via ? undefined : { steps: plannedSteps(restSql, indexSql, after) };
  ctx.report({ message, suggestion: lines.join('\n'), span: { start: stmt.start, end: stmt.end }, fix });
}

function reportRejected(ctx: StatementContext, rel: RelationRef, usingIndex: Array<{ con: AstValue }>): void {
  const { stmt } = ctx;
  const what = usingIndex
    .map(({ con }) => `ADD ${con.conname ? `CONSTRAINT "${con.conname}" ` : ''}${con.contype === 'CONSTR_PRIMARY' ? 'PRIMARY KEY' : 'UNIQUE'} USING INDEX "${con.indexname}"`)
    .join(', ');
  const message =
    `${what} on ${shown(rel.q)}: BDR 1 rejects ADD CONSTRAINT ... USING INDEX on regular tables: ` +
    `"ERROR: ALTER TABLE ... ADD CONSTRAINT USING INDEX may only affect UNLOGGED or TEMPORARY tables when BDR is active; ${rel.q.name} is a regular table" (spec §7.4)`;
  const wrap = wrapper(ctx);
  const lines = ['-- Drop this statement and keep the unique index: it enforces uniqueness, and foreign keys can reference its columns.'];
  const primary = usingIndex.find(({ con }) => con.contype === 'CONSTR_PRIMARY');
  if (primary) {
    const relSql = `ALTER TABLE ${rel.sql}`;
    lines.push(
      `-- For the primary key: BDR 1 accepts UPDATE and DELETE on a table with a replica identity index (its executor hook checks that index, spec §7.4), so make the index that`,
      `-- (its columns must be NOT NULL; BDR 1 allows REPLICA IDENTITY on regular tables):`,
      wrap(`${relSql} REPLICA IDENTITY USING INDEX ${quoteIdent(primary.con.indexname)}`),
    );
  }
  ctx.report({ message, suggestion: lines.join('\n'), span: { start: stmt.start, end: stmt.end } });
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

