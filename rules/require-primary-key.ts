/**
 * require-primary-key: CREATE TABLE (also CREATE TABLE AS / SELECT INTO) of a permanent table that
 * has no PRIMARY KEY at the end of the run.
 * Spec §7.4 (BDR 1 rejects UPDATE/DELETE on tables without a primary key; Fedora: "All tables need
 * to have primary keys"), §4 (bdr.default_replica_identity: without a key, UPDATE/DELETE replicate
 * only with REPLICA IDENTITY FULL), §1.3 (PGD 6: FULL by default), §6 (sequences for a surrogate key).
 *
 * A key may come from the statement itself, a later ALTER TABLE ... ADD PRIMARY KEY (any later
 * file), the parent of a partition, or LIKE ... INCLUDING INDEXES / ALL. The rule decides at the
 * end of the run, on the tables the run created and did not drop.
 */
import { AstValue, QualifiedName, fields, names, nodeType, quoteIdent, rangeVarName, walk } from '../src/ast';
import type { Table } from '../src/catalog';
import { shown } from '../src/describe';
import type { RunModel, Stmt } from '../src/model';
import type { EndContext, Rule } from '../src/rule';
import { clone, deparse } from '../src/sqlgen';
import { Target, atLeast, productName } from '../src/targets';

/** CREATE_TABLE_LIKE_INDEXES (PostgreSQL parsenodes.h). */
const LIKE_INDEXES = 1 << 6;

/** Statements that create tables (SELECT ... INTO is checked separately). */
const CREATING = new Set(['CreateStmt', 'CreateTableAsStmt', 'CreateSchemaStmt']);

interface RunState {
  /** Tables the run created and committed (found when their transaction ends). */
  created: Set<Table>;
  /** Partition -> its parent ('unknown': a table the migrations did not create). */
  parentOf: Map<Table, Table | 'unknown'>;
  /** CREATE TABLE ... PARTITION OF statements (by id) and the parent they name, until the table exists. */
  pendingParent: Map<number, Table | 'unknown'>;
  /** Statements whose LIKE copies the indexes of a table of unknown shape (it may have a key). */
  unknownLike: Set<number>;
  /** Tables of DROP statements, by transaction id: confirmed dropped when it ends. */
  pendingDrops: Map<number, Set<Table>>;
  dropped: Set<Table>;
  /** Partitions detached while their parent had a key: they keep a copy of it. */
  keptKey: Set<Table>;
}

const runs = new WeakMap<RunModel, RunState>();

function state(model: RunModel): RunState {
  let s = runs.get(model);
  if (!s) {
    s = {
      created: new Set(),
      parentOf: new Map(),
      pendingParent: new Map(),
      unknownLike: new Set(),
      pendingDrops: new Map(),
      dropped: new Set(),
      keptKey: new Set(),
    };
    runs.set(model, s);
  }
  return s;
}

function hasKey(t: Table, s: RunState, seen = new Set<Table>()): boolean {
  if (t.primaryKey || s.keptKey.has(t)) return true;
  if (seen.has(t)) return false;
  seen.add(t);
  const parent = s.parentOf.get(t);
  if (parent === 'unknown') return true; // the parent's key is unknown: give the benefit of the doubt
  return !!parent && !s.dropped.has(parent) && hasKey(parent, s, seen);
}

export const rule: Rule = {
  meta: {
    id: 'require-primary-key',
    description: 'CREATE TABLE of a permanent replicated table with no PRIMARY KEY (unless one is added later in the same run)',
    severity: () => 'error',
    fixable: false,
    spec: ['§7.4', '§4', '§1.3', '§6'],
  },
  statement(ctx) {
    const { stmt } = ctx;
    const s = state(ctx.model);
    const f = stmt.f;
    if (stmt.type === 'CreateStmt') {
      if (f.partbound && f.inhRelations?.[0]) {
        const parent = ctx.table(rangeVarName(fields(f.inhRelations[0])));
        s.pendingParent.set(stmt.id, parent ?? 'unknown');
      }
      for (const elt of f.tableElts ?? []) {
        if (nodeType(elt) !== 'TableLikeClause') continue;
        const like = fields(elt);
        if ((like.options ?? 0) & LIKE_INDEXES && !ctx.table(rangeVarName(like.relation))) s.unknownLike.add(stmt.id);
      }
    } else if (stmt.type === 'AlterTableStmt') {
      const parent = ctx.table(rangeVarName(f.relation));
      for (const c of f.cmds ?? []) {
        const cmd = fields(c);
        if (cmd.subtype !== 'AT_AttachPartition' && cmd.subtype !== 'AT_DetachPartition') continue;
        const part = ctx.table(rangeVarName(fields(cmd.def).name));
        if (!part) continue;
        if (cmd.subtype === 'AT_AttachPartition') {
          s.parentOf.set(part, parent ?? 'unknown');
        } else {
          // A detached partition keeps its copy of the parent's key.
          if (hasKey(part, s)) s.keptKey.add(part);
          s.parentOf.delete(part);
        }
      }
    } else if (stmt.type === 'DropStmt') {
      const doomed = new Set<Table>();
      if (f.removeType === 'OBJECT_TABLE') {
        for (const o of f.objects ?? []) {
          const parts = names(fields(o).items);
          const t = ctx.table({ schema: parts.length > 1 ? parts[parts.length - 2] : undefined, name: parts[parts.length - 1] ?? '' });
          if (t) doomed.add(t);
        }
      } else if (f.removeType === 'OBJECT_SCHEMA' && f.behavior === 'DROP_CASCADE') {
        const schemas = new Set(names(f.objects));
        for (const t of ctx.catalog.tables.values()) if (schemas.has(t.schema)) doomed.add(t);
      }
      if (doomed.size > 0) {
        const pending = s.pendingDrops.get(stmt.tx.id) ?? new Set<Table>();
        for (const t of doomed) pending.add(t);
        s.pendingDrops.set(stmt.tx.id, pending);
      }
    }
  },
  transaction(ctx) {
    const s = state(ctx.model);
    const pending = s.pendingDrops.get(ctx.tx.id);
    const creates = ctx.tx.statements.some((st) => CREATING.has(st.type) || (st.type === 'SelectStmt' && !!st.f.intoClause));
    if (!creates && !pending) return;
    if (creates) {
      // The tables of the catalog whose origin is this transaction (without a scan of every table).
      for (const t of ctx.catalog.tablesCreatedIn(ctx.tx.id)) {
        if (t.kind !== 'table' || s.created.has(t)) continue;
        s.created.add(t);
        const parent = s.pendingParent.get(t.origin.stmtId);
        if (parent !== undefined) s.parentOf.set(t, parent);
      }
    }
    if (pending) {
      const present = new Set(ctx.catalog.tables.values());
      for (const t of pending) if (!present.has(t)) s.dropped.add(t);
      s.pendingDrops.delete(ctx.tx.id);
      // Dropping a partitioned table drops its partitions.
      let grew = true;
      while (grew) {
        grew = false;
        for (const [child, parent] of s.parentOf) {
          if (parent !== 'unknown' && s.dropped.has(parent) && !s.dropped.has(child)) {
            s.dropped.add(child);
            grew = true;
          }
        }
      }
    }
  },
  end(ctx) {
    const s = state(ctx.model);
    const byId = new Map<number, Stmt>();
    for (const file of ctx.model.files) for (const st of file.statements) byId.set(st.id, st);
    for (const t of s.created) {
      if (s.dropped.has(t) || t.kind !== 'table' || t.persistence !== 'permanent') continue;
      if (hasKey(t, s)) continue;
      const stmt = byId.get(t.origin.stmtId);
      if (!stmt || s.unknownLike.has(stmt.id)) continue;
      report(ctx, s, t, stmt, byId);
    }
    runs.delete(ctx.model);
  },
};

/** The relation a creating statement names, as written. */
function createdName(stmt: Stmt, t: Table): QualifiedName {
  const f = stmt.f;
  const rv = stmt.type === 'CreateStmt' ? f.relation : stmt.type === 'CreateTableAsStmt' ? f.into?.rel : stmt.type === 'SelectStmt' ? f.intoClause?.rel : undefined;
  return rv ? rangeVarName(rv) : tableName(t);
}

/** A catalog table's name for messages: unqualified in public. */
function tableName(t: Table): QualifiedName {
  return t.schema === 'public' || t.schema === 'pg_temp' ? { name: t.name } : { schema: t.schema, name: t.name };
}

/** What the statement is, with the table's name: `CREATE TABLE "t"`, `CREATE TABLE "p1" PARTITION OF "p"`, ... */
function described(stmt: Stmt, q: QualifiedName, renamed: string): string {
  const name = `${shown(q)}${renamed}`;
  if (stmt.type === 'CreateTableAsStmt') return `CREATE TABLE ${name} AS ...`;
  if (stmt.type === 'SelectStmt') return `SELECT ... INTO ${name}`;
  if (stmt.type === 'CreateSchemaStmt') return `CREATE SCHEMA ... CREATE TABLE ${name}`;
  if (stmt.f.partbound && stmt.f.inhRelations?.[0]) return `CREATE TABLE ${name} PARTITION OF ${shown(rangeVarName(fields(stmt.f.inhRelations[0])))}`;
  return `CREATE TABLE ${name}`;
}

function consequence(target: Target, t: Table): string {
  if (target.family === 'bdr1') {
    return (
      `BDR 1 rejects every UPDATE and DELETE on it: "ERROR: Cannot run UPDATE or DELETE on table ${t.name} because it does not have a primary key." ` +
      `(spec §7.4; Fedora's rule: "All tables need to have primary keys")`
    );
  }
  if (target.family === 'pgd6') {
    return (
      `${productName(target)} gives such a table REPLICA IDENTITY FULL (bdr.default_replica_identity = auto, spec §1.3, §4): every UPDATE and DELETE ` +
      `is sent with the whole old row and each node finds the row by comparing every column (slow on large tables, ambiguous for duplicate rows), ` +
      `and conflicts cannot be detected by key`
    );
  }
  return (
    `${productName(target)} cannot replicate UPDATE or DELETE on a table without a primary key unless its REPLICA IDENTITY is FULL ` +
    `(spec §4, bdr.default_replica_identity); even then each node finds the row by comparing every column (slow, ambiguous for duplicate rows) ` +
    `and conflicts cannot be detected by key`
  );
}

function report(ctx: EndContext, s: RunState, t: Table, stmt: Stmt, byId: Map<number, Stmt>): void {
  const q = createdName(stmt, t);
  const parent = s.parentOf.get(t);
  const parentNote = parent && parent !== 'unknown' ? ` (its parent ${shown(tableName(parent))} has none either)` : '';
  const renamed = t.name !== q.name ? ` (later renamed to "${t.name}")` : '';
  const message =
    `${described(stmt, q, renamed)} creates a permanent table without a primary key${parentNote}, and no later statement of this run adds one: ` +
    consequence(ctx.target, t);
  const parentStmt = parent && parent !== 'unknown' ? byId.get(parent.origin.stmtId) : undefined;
  ctx.report(stmt, { message, suggestion: suggestion(ctx.target, stmt, t, parent, parentStmt), span: { start: stmt.start, end: stmt.end } });
}

// ---- suggestions -----------------------------------------------------------------------------

const str = (s: string): AstValue => ({ String: { sval: s } });

/** Columns that would make a natural key: a column named id, else the columns of a UNIQUE constraint. */
function keyCandidate(t: Table): string[] | undefined {
  if (t.columns.has('id')) return ['id'];
  for (const c of t.constraints.values()) if (c.kind === 'unique' && c.columns.length > 0) return c.columns;
  return undefined;
}

/** The partition key columns of a partitioned CREATE TABLE (a primary key must include them). */
function partitionColumns(stmt: Stmt): string[] | 'expression' {
  const out: string[] = [];
  for (const p of stmt.f.partspec?.partParams ?? []) {
    const pe = fields(p);
    if (!pe.name) return 'expression';
    out.push(pe.name);
  }
  return out;
}

const EXPRESSION_KEY_NOTE =
  '-- PostgreSQL rejects a primary key on a table partitioned by an expression ("PRIMARY KEY constraints cannot be used when partition keys include expressions").';

/**
 * The partition spec with each expression replaced by the one column it reads (`date_trunc('month', at)`
 * -> `at`), for an example of partitioning by plain columns; undefined when an expression reads no or
 * several columns.
 */
function plainPartspec(partspec: AstValue): { spec: AstValue; columns: string[] } | undefined {
  const spec = clone({ PartitionSpec: partspec }).PartitionSpec;
  const columns: string[] = [];
  for (const p of spec.partParams ?? []) {
    const pe = fields(p);
    if (pe.name) {
      columns.push(pe.name);
      continue;
    }
    const refs = new Set<string>();
    walk(pe.expr, (type, v) => {
      if (type === 'ColumnRef') {
        const parts = names(v.fields);
        if (parts.length > 0) refs.add(parts[parts.length - 1]);
      }
    });
    if (refs.size !== 1) return undefined;
    const [col] = refs;
    pe.name = col;
    delete pe.expr;
    delete pe.opclass;
    delete pe.collation;
    columns.push(col);
  }
  return { spec, columns: [...new Set(columns)] };
}

/** A surrogate key column for the target (spec §6: distributed sequences by default on PGD 4.1+). */
function surrogateColumn(target: Target, inlineKey: boolean): { def: AstValue; note: string[] } {
  const pk = inlineKey ? [{ Constraint: { contype: 'CONSTR_PRIMARY' } }] : [];
  if (target.family === 'bdr1') {
    return {
      def: {
        ColumnDef: {
          colname: 'id',
          typeName: { names: [str('uuid')], typemod: -1 },
          is_local: true,
          constraints: [
            ...pk,
            { Constraint: { contype: 'CONSTR_DEFAULT', raw_expr: { FuncCall: { funcname: [str('gen_random_uuid')], funcformat: 'COERCE_EXPLICIT_CALL' } } } },
          ],
        },
      },
      note: [
        '-- (gen_random_uuid() comes from the pgcrypto extension on PostgreSQL 9.4. The BDR 1 docs call global sequences deprecated;',
        '--  a natural key of the data, or a bigint fed by a step/offset sequence, works too: spec §7.4)',
      ],
    };
  }
  const def = {
    ColumnDef: {
      colname: 'id',
      typeName: { names: [str('pg_catalog'), str('int8')], typemod: -1 },
      is_local: true,
      constraints: [{ Constraint: { contype: 'CONSTR_IDENTITY', generated_when: 'a' } }, ...pk],
    },
  };
  if (target.family === 'bdr3' || (target.family === 'pgd4' && !atLeast(target, 4, 1))) {
    return {
      def,
      note: [
        `-- (On ${productName(target)} the default sequence kind is local: the identity's values would collide across nodes.`,
        "--  Make its sequence a global one before the first insert, e.g. SELECT bdr.alter_sequence_set_kind(<its sequence>, 'galloc'); see require-global-sequence, spec §4, §6)",
      ],
    };
  }
  return {
    def,
    note: [`-- (With bdr.default_sequence_kind = distributed, the default on ${productName(target)}, the identity's sequence is cluster-wide: spec §4, §6)`],
  };
}

function quoteName(q: QualifiedName): string {
  return q.schema ? `${quoteIdent(q.schema)}.${quoteIdent(q.name)}` : quoteIdent(q.name);
}

function suggestion(target: Target, stmt: Stmt, t: Table, parent: Table | 'unknown' | undefined, parentStmt: Stmt | undefined): string {
  const tableSql = quoteName({ schema: createdName(stmt, t).schema, name: t.name });
  if (parent && parent !== 'unknown') return partitionSuggestion(t, parent, parentStmt);
  if (stmt.type === 'CreateStmt') return createSuggestion(target, stmt, t, tableSql);
  return queryTableSuggestion(target, stmt, tableSql);
}

/** A partition whose parent has no key: the key belongs on the parent. */
function partitionSuggestion(t: Table, parent: Table, parentStmt: Stmt | undefined): string {
  const pq = tableName(parent);
  const cols = keyCandidate(parent) ?? keyCandidate(t);
  const base = cols ?? ['id'];
  const part = parentStmt?.type === 'CreateStmt' && parentStmt.f.partspec ? partitionColumns(parentStmt) : [];
  if (part === 'expression') {
    const plain = plainPartspec(parentStmt!.f.partspec);
    const example = plain ? ` (e.g. PARTITION BY ${partitionBy(plain.spec)}) with a primary key that includes ${plain.columns.map(quoteIdent).join(', ')}` : ' with a primary key that includes them';
    return [
      `-- The key belongs on the partitioned parent ${shown(pq)}, and every partition gets it; but ${shown(pq)} is partitioned by an expression:`,
      EXPRESSION_KEY_NOTE,
      `-- Create it partitioned by plain column(s) instead${example}, while it is still empty.`,
    ].join('\n');
  }
  const key = [...base, ...part.filter((c) => !base.includes(c))];
  const lines = [
    `-- Give the partitioned parent ${shown(pq)} a primary key (it must include the partition key columns); every partition gets it.`,
    '-- Best in the migration that creates the parent, while it is still empty:',
    `ALTER TABLE ${quoteName(pq)} ADD PRIMARY KEY (${key.map(quoteIdent).join(', ')});`,
  ];
  if (!cols) lines.push('-- (replace "id" with the column(s) that identify a row)');
  return lines.join('\n');
}

/** CREATE TABLE: the statement with a key, or ADD PRIMARY KEY right after it. */
function createSuggestion(target: Target, stmt: Stmt, t: Table, tableSql: string): string {
  const create = clone(stmt.node!);
  const elts: AstValue[] = create.CreateStmt.tableElts ?? [];
  const cols = keyCandidate(t);
  const partitioned = !!stmt.f.partspec;
  let part = partitioned ? partitionColumns(stmt) : [];
  const lines: string[] = [];
  const byExpression = part === 'expression';
  if (part === 'expression') {
    // No key is possible with this partition key: the example partitions by the columns the expressions read.
    const plain = plainPartspec(stmt.f.partspec);
    lines.push(EXPRESSION_KEY_NOTE);
    if (!plain) {
      lines.push('-- Partition the table by plain column(s) instead, and make them part of the primary key.');
      return lines.join('\n');
    }
    create.CreateStmt.partspec = plain.spec;
    part = plain.columns;
    lines.push('-- Partition it by plain column(s) instead, and make them part of the key (partition bounds are then given as values of those columns):');
  }
  // A typed table (OF type) takes its columns from the type: no column can be added, only a key on them.
  const typed = !!stmt.f.ofTypename;
  let note: string[] = [];
  if (!cols && typed) {
    note = ['-- (a typed table has the columns of its type: replace "id" with the column(s) of the type that identify a row)'];
  } else if (!cols) {
    // Partitioned: the key goes in a table constraint that includes the partition columns.
    const surrogate = surrogateColumn(target, !partitioned);
    note = surrogate.note;
    elts.unshift(surrogate.def);
  }
  const base = cols ?? ['id'];
  const key = [...base, ...part.filter((c) => !base.includes(c))];
  if (cols || partitioned || typed) elts.push({ Constraint: { contype: 'CONSTR_PRIMARY', keys: key.map(str) } });
  create.CreateStmt.tableElts = elts;
  lines.push('-- Create the table with a primary key:', `${deparse(create)};`, ...note);
  if (byExpression) return lines.join('\n');
  lines.push(
    '-- or add it in this same migration file, right after the CREATE TABLE, while the table is still empty:',
    `ALTER TABLE ${tableSql} ADD PRIMARY KEY (${key.map(quoteIdent).join(', ')});`,
  );
  if (!cols && !typed) lines.push('-- (with the id column above, or the column(s) that identify a row)');
  return lines.join('\n');
}

/** `RANGE (a, b)` of a partition spec, as SQL. */
function partitionBy(spec: AstValue): string {
  const sql = deparse({ CreateStmt: { relation: { relname: 'x', inh: true, relpersistence: 'p' }, partspec: spec, oncommit: 'ONCOMMIT_NOOP' } });
  const at = sql.indexOf('PARTITION BY ');
  return at === -1 ? sql : sql.slice(at + 'PARTITION BY '.length).replace(/;$/, '');
}

/** CREATE TABLE AS / SELECT INTO: the columns come from the query. */
function queryTableSuggestion(target: Target, stmt: Stmt, tableSql: string): string {
  const outCols = queryColumns(stmt);
  const cols = outCols.includes('id') ? ['id'] : outCols.length > 0 ? [outCols[0]] : ['id'];
  if (target.family === 'bdr1') {
    return [
      '-- BDR 1 rejects CREATE TABLE AS / SELECT INTO of a permanent table (spec §7.3): create the table with a primary key, then fill it:',
      `-- CREATE TABLE ${tableSql} (<columns>, PRIMARY KEY (${cols.map(quoteIdent).join(', ')}));`,
      `-- INSERT INTO ${tableSql} SELECT ...;`,
    ].join('\n');
  }
  return [
    '-- Add the key in this same migration file, right after the statement, before anything else uses the table:',
    `ALTER TABLE ${tableSql} ADD PRIMARY KEY (${cols.map(quoteIdent).join(', ')});`,
    `-- (${outCols.length > 0 ? 'choose the column(s) of the query that identify a row' : 'replace "id" with the column(s) that identify a row'};`,
    '--  or create the table with its primary key first and fill it with INSERT INTO ... SELECT)',
  ].join('\n');
}

/** Output column names of a CREATE TABLE AS / SELECT INTO query, where they can be read. */
function queryColumns(stmt: Stmt): string[] {
  const f = stmt.f;
  const into = stmt.type === 'CreateTableAsStmt' ? f.into : f.intoClause;
  const given = names(into?.colNames);
  if (given.length > 0) return given;
  const select = stmt.type === 'CreateTableAsStmt' ? fields(f.query) : f;
  const out: string[] = [];
  for (const rt of select.targetList ?? []) {
    const r = fields(rt);
    if (r.name) out.push(r.name);
    else if (r.val?.ColumnRef) {
      const parts = r.val.ColumnRef.fields ?? [];
      const last = parts[parts.length - 1];
      if (last?.String) out.push(last.String.sval);
    }
  }
  return out;
}
