/**
 * no-create-table-as: CREATE TABLE ... AS / SELECT ... INTO of a permanent table.
 * BDR 1 rejects it ("CREATE TABLE AS is not supported when bdr is active" / "SELECT INTO ...",
 * bdr_commandfilter.c; spec §7.3, §8); BDR 3.7 allows it only on EDB Postgres Extended / Advanced
 * (spec §1.1, §2.2), with the documented workaround `CREATE TABLE ...; INSERT INTO ... SELECT ...`.
 * CREATE MATERIALIZED VIEW (the same node with OBJECT_MATVIEW) is not this rule.
 */
import { AstValue, QualifiedName, fields, formatName, names, nodeType, quoteIdent, rangeVarName, strVal } from '../src/ast';
import type { Table } from '../src/catalog';
import { shown } from '../src/describe';
import type { Rule, StatementContext } from '../src/rule';
import { clone, deparse } from '../src/sqlgen';
import { productName } from '../src/targets';

interface Shape {
  /** The table created. */
  rel: AstValue;
  /** The query, without INTO. */
  query: AstValue;
  /** CREATE TABLE AS or SELECT INTO (PostgreSQL's command tag). */
  tag: 'CREATE TABLE AS' | 'SELECT INTO';
  into: AstValue;
  ifNotExists: boolean;
}

function shapeOf(ctx: StatementContext): Shape | undefined {
  const { stmt } = ctx;
  if (stmt.type === 'CreateTableAsStmt' && stmt.f.objtype === 'OBJECT_TABLE' && stmt.f.into?.rel) {
    return { rel: stmt.f.into.rel, query: stmt.f.query, tag: 'CREATE TABLE AS', into: stmt.f.into, ifNotExists: !!stmt.f.if_not_exists };
  }
  if (stmt.type === 'SelectStmt' && stmt.f.intoClause?.rel) {
    const q = clone(stmt.node!);
    delete q.SelectStmt.intoClause;
    return { rel: stmt.f.intoClause.rel, query: q, tag: 'SELECT INTO', into: stmt.f.intoClause, ifNotExists: false };
  }
  return undefined;
}

function isPermanent(rel: AstValue): boolean {
  if (rel.relpersistence && rel.relpersistence !== 'p') return false;
  return !(typeof rel.schemaname === 'string' && rel.schemaname.startsWith('pg_temp'));
}

/** A column of the result with its type, when the catalog knows it. */
interface OutColumn {
  name: string;
  type?: AstValue;
}

/** The TypeName node of a catalog column, or undefined when it cannot be written back faithfully. */
function typeNode(col: { type: string; typmods?: number[]; isArray: boolean }): AstValue | undefined {
  if (col.type === 'char' || col.type === '') return undefined; // the internal "char" would print as char(1)
  if (col.type === 'interval' && col.typmods?.length) return undefined; // interval field masks
  return {
    names: col.type.split('.').map((sval) => ({ String: { sval } })),
    typmods: col.typmods?.map((ival) => ({ A_Const: { ival: { ival } } })),
    arrayBounds: col.isArray ? [{ Integer: { ival: -1 } }] : undefined,
    typemod: -1,
  };
}

/** The single table the query reads, when it is `SELECT ... FROM one_table [WHERE ...]`. */
function singleSource(query: AstValue): { rv: AstValue; alias?: string } | undefined {
  if (nodeType(query) !== 'SelectStmt') return undefined;
  const s = fields(query);
  if (s.op !== 'SETOP_NONE' || s.valuesLists || s.withClause || (s.fromClause ?? []).length !== 1) return undefined;
  const from = s.fromClause[0];
  if (nodeType(from) !== 'RangeVar') return undefined;
  const rv = fields(from);
  return { rv, alias: rv.alias?.aliasname };
}

/** `*` or `t.*` alone in the target list. */
function selectsStar(query: AstValue): boolean {
  const list = fields(query).targetList ?? [];
  if (list.length !== 1) return false;
  const val = fields(list[0]).val;
  const f = nodeType(val) === 'ColumnRef' ? fields(val).fields ?? [] : [];
  return f.length > 0 && nodeType(f[f.length - 1]) === 'A_Star';
}

/** The output columns of the query, with types from the catalog where the source is known. */
function outputColumns(ctx: StatementContext, query: AstValue): OutColumn[] | undefined {
  if (nodeType(query) !== 'SelectStmt') return undefined;
  const s = fields(query);
  if (s.op !== 'SETOP_NONE' || s.valuesLists) return undefined;
  const src = singleSource(query);
  const table: Table | undefined = src ? ctx.table(rangeVarName(src.rv)) : undefined;
  const refName = src ? (src.alias ?? src.rv.relname) : undefined;
  const out: OutColumn[] = [];
  for (const t of s.targetList ?? []) {
    const rt = fields(t);
    const val = rt.val;
    if (nodeType(val) === 'ColumnRef') {
      const parts: AstValue[] = fields(val).fields ?? [];
      const last = parts[parts.length - 1];
      if (nodeType(last) === 'A_Star') {
        if (!table || (parts.length === 2 && strVal(parts[0]) !== refName)) return undefined;
        for (const c of table.columns.values()) out.push({ name: c.name, type: typeNode(c) });
        continue;
      }
      const colName = strVal(last) ?? '?column?';
      const qualifier = parts.length === 2 ? strVal(parts[0]) : undefined;
      const col = table && (qualifier === undefined || qualifier === refName) && parts.length <= 2 ? table.columns.get(colName) : undefined;
      out.push({ name: rt.name ?? colName, type: col ? typeNode(col) : undefined });
      continue;
    }
    if (nodeType(val) === 'FuncCall') {
      const fn = names(fields(val).funcname);
      out.push({ name: rt.name ?? fn[fn.length - 1] });
      continue;
    }
    out.push({ name: rt.name ?? '?column?' });
  }
  return out;
}

export const rule: Rule = {
  meta: {
    id: 'no-create-table-as',
    description: 'CREATE TABLE ... AS / SELECT ... INTO of a permanent table (rejected by BDR 1; EDB Postgres Extended/Advanced only on BDR 3.7)',
    severity: (target) => (target.family === 'bdr1' ? 'error' : target.family === 'bdr3' ? 'warning' : 'off'),
    fixable: true,
    spec: ['§1.1', '§2.2', '§7.3', '§8'],
  },
  statement(ctx) {
    const { stmt, target } = ctx;
    const shape = shapeOf(ctx);
    if (!shape || !isPermanent(shape.rel)) return;
    // BDR 3's restriction is on replicated DDL; BDR 1's command filter checks every statement.
    if (target.family === 'bdr3' && (stmt.tx.kind === 'remote' || ctx.session.ddlReplicationOff)) return;

    const q: QualifiedName = rangeVarName(shape.rel);
    const name = shown(q);
    const product = productName(target);
    const message =
      target.family === 'bdr1'
        ? `${shape.tag} of permanent table ${name}: BDR 1 rejects it: ERROR: ${shape.tag} is not supported when bdr is active (SQLSTATE 0A000, spec §7.3, §8); only UNLOGGED or TEMPORARY tables may be created this way`
        : `${shape.tag} of permanent table ${name}: ${product} allows ${shape.tag} only on EDB Postgres Extended and EDB Postgres Advanced (spec §1.1, §2.2${target.minor <= 6 ? '; BDR 3.6 inferred to be the same' : ''}): on community PostgreSQL it is rejected`;

    const table = formatName(q);
    const into = shape.into;
    const colNames: string[] = names(into.colNames);
    const cols = outputColumns(ctx, shape.query);
    if (cols) colNames.forEach((n, i) => cols[i] && (cols[i].name = n));
    const src = singleSource(shape.query);

    // The CREATE TABLE, as a node so that the deparser writes valid SQL.
    const createNode = (elts: AstValue[]): string => {
      let sql = deparse({
        CreateStmt: {
          relation: { ...clone(shape.rel), relpersistence: 'p' },
          tableElts: elts,
          options: into.options ? clone(into.options) : undefined,
          accessMethod: into.accessMethod,
          if_not_exists: shape.ifNotExists || undefined,
          oncommit: 'ONCOMMIT_NOOP',
        },
      });
      if (into.tableSpaceName) sql += ` TABLESPACE ${quoteIdent(into.tableSpaceName)}`;
      return sql;
    };
    const fillable = nodeType(shape.query) === 'SelectStmt';
    const insert = fillable ? `INSERT INTO ${table} ${deparse(shape.query)}` : `-- INSERT INTO ${table} <the rows of: ${deparse(shape.query)}>`;
    const fillNote = into.skipData ? [] : [`-- 2. Fill it, in a transaction of its own (the rows replicate as DML; the DDL lock is not held while copying):`, `${insert};`];

    const lines: string[] = [];
    let fix: { steps: Array<{ sql: string; mode: 'in-place' | 'own-transaction' }> } | undefined;
    const typed = cols && cols.length > 0 && cols.every((c) => c.type) ? cols : undefined;
    if (typed) {
      const create = createNode(typed.map((c) => ({ ColumnDef: { colname: c.name, typeName: c.type, is_local: true } })));
      lines.push(`-- 1. Declare the table (replicated DDL), in the migration's transaction; add a PRIMARY KEY (PGD needs one to replicate UPDATE and DELETE):`, `${create};`, ...fillNote);
      if (fillable || into.skipData) fix = { steps: [{ sql: create, mode: 'in-place' }, ...(into.skipData ? [] : [{ sql: insert, mode: 'own-transaction' as const }])] };
    } else if (src && selectsStar(shape.query) && colNames.length === 0) {
      // Written by hand: the deparser drops a schema-qualified LIKE source.
      const like = `CREATE TABLE ${shape.ifNotExists ? 'IF NOT EXISTS ' : ''}${table} (LIKE ${formatName(rangeVarName(src.rv))} INCLUDING ALL)`;
      lines.push(
        `-- 1. Declare the table (replicated DDL), in the migration's transaction. LIKE copies the columns of ${shown(rangeVarName(src.rv))};`,
        `--    INCLUDING ALL also copies its defaults, constraints and indexes (its PRIMARY KEY, which PGD needs): trim it to what you want.`,
        `${like};`,
        ...fillNote,
      );
    } else {
      const list = cols && cols.length > 0 ? cols.map((c) => `${quoteIdent(c.name)} <type>`).join(', ') : '<column> <type>, ...';
      lines.push(
        `-- 1. Declare the table with its columns and their types (replicated DDL), and a PRIMARY KEY (PGD needs one):`,
        `--    CREATE TABLE ${table} (${list}, PRIMARY KEY (...));`,
        ...(into.skipData ? [] : [`-- 2. Fill it, in a transaction of its own (the rows replicate as DML):`, `${insert};`]),
      );
    }
    if (target.family === 'bdr3') lines.push(`-- (On EDB Postgres Extended / Advanced ${shape.tag} itself is allowed.)`);
    ctx.report({ message, suggestion: lines.join('\n'), span: { start: stmt.start, end: stmt.end }, fix: stmt.via ? undefined : fix });
  },
};
