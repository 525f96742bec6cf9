/**
 * no-exclusion-constraint: EXCLUDE constraints (CREATE TABLE, ALTER TABLE ... ADD CONSTRAINT).
 * BDR 1 rejects them on permanent tables ("EXCLUDE constraints are unsafe with BDR active"; for
 * ALTER TABLE "... may only affect UNLOGGED or TEMPORARY tables when BDR is active"; spec §7.4, §8);
 * BDR 3.7, PGD 4 and PGD 5.0–5.5 disallow them ("don't make much sense in an asynchronous
 * system", spec §3; for CREATE TABLE inferred from the 5.6 release notes, §2.2); PGD 5.6+ and 6
 * support them with conflict detection (§1.2). An equality-only exclusion is a UNIQUE constraint.
 */
import { AstValue, fields, formatName, names, nodeType, quoteIdent, rangeVarName } from '../src/ast';
import { shown } from '../src/describe';
import type { Fix, Rule, Span, StatementContext } from '../src/rule';
import { clone, deparse } from '../src/sqlgen';
import { Target, atLeast, productName } from '../src/targets';

/** Targets that reject EXCLUDE on replicated tables. */
function rejects(target: Target): boolean {
  return target.family === 'bdr1' || target.family === 'bdr3' || target.family === 'pgd4' || (target.family === 'pgd5' && !atLeast(target, 5, 6));
}

/** The columns of an exclusion constraint whose every operator is `=` on a plain column, else undefined. */
function equalityColumns(con: AstValue): string[] | undefined {
  if (con.where_clause) return undefined;
  const cols: string[] = [];
  for (const pair of con.exclusions ?? []) {
    const items: AstValue[] = fields(pair).items ?? [];
    if (items.length !== 2) return undefined;
    const elem = fields(items[0]);
    const op = names(fields(items[1]).items);
    if (op[op.length - 1] !== '=' || (op.length === 2 && op[0] !== 'pg_catalog') || op.length > 2) return undefined;
    if (!elem.name || elem.expr || elem.collation) return undefined;
    if ((elem.ordering && elem.ordering !== 'SORTBY_DEFAULT') || (elem.nulls_ordering && elem.nulls_ordering !== 'SORTBY_NULLS_DEFAULT')) return undefined;
    cols.push(elem.name);
  }
  return cols.length > 0 ? cols : undefined;
}

/** The UNIQUE constraint equivalent to an equality-only exclusion constraint. */
function uniqueConstraint(con: AstValue, cols: string[]): AstValue {
  const btree = !con.access_method || con.access_method === 'btree';
  return {
    Constraint: {
      contype: 'CONSTR_UNIQUE',
      conname: con.conname,
      deferrable: con.deferrable,
      initdeferred: con.initdeferred,
      keys: cols.map((sval) => ({ String: { sval } })),
      including: con.including ? clone(con.including) : undefined,
      options: btree && con.options ? clone(con.options) : undefined,
      indexspace: con.indexspace,
    },
  };
}

interface Found {
  con: AstValue;
}

function isLocalRel(ctx: StatementContext, rv: AstValue): boolean {
  if (rv?.relpersistence === 't' || rv?.relpersistence === 'u') return true;
  if (typeof rv?.schemaname === 'string' && rv.schemaname.startsWith('pg_temp')) return true;
  const t = ctx.table(rangeVarName(rv));
  return !!t && t.persistence !== 'permanent';
}

export const rule: Rule = {
  meta: {
    id: 'no-exclusion-constraint',
    description: 'EXCLUDE constraints: rejected on replicated tables before PGD 5.6 (BDR 1, BDR 3, PGD 4, PGD 5.0-5.5)',
    severity: (target) => (rejects(target) ? 'error' : 'off'),
    fixable: true,
    spec: ['§1.2', '§2.2', '§3', '§7.4', '§8'],
  },
  statement(ctx) {
    const { stmt, target } = ctx;
    if (!rejects(target)) return;
    const found: Found[] = [];
    let isCreate = false;
    if (stmt.type === 'CreateStmt') {
      isCreate = true;
      const elts: AstValue[] = stmt.f.tableElts ?? [];
      for (const e of elts) {
        if (nodeType(e) === 'Constraint' && fields(e).contype === 'CONSTR_EXCLUSION') found.push({ con: fields(e) });
      }
    } else if (stmt.type === 'AlterTableStmt') {
      const cmds: AstValue[] = stmt.f.cmds ?? [];
      for (const c of cmds) {
        const cmd = fields(c);
        if (cmd.subtype === 'AT_AddConstraint' && fields(cmd.def).contype === 'CONSTR_EXCLUSION') found.push({ con: fields(cmd.def) });
      }
    }
    if (found.length === 0) return;
    const rv = stmt.f.relation;
    if (isLocalRel(ctx, rv)) return; // temporary / unlogged: not replicated, allowed everywhere

    const q = rangeVarName(rv);
    const tableSql = formatName(q);
    const product = productName(target);
    const table = ctx.table(q);
    const newTable = isCreate || ctx.isNewTable(table) || ctx.createdInTx(table);

    const span: Span = { start: stmt.start, end: stmt.end };
    for (const { con } of found) {
      const what = `EXCLUDE constraint${con.conname ? ` "${con.conname}"` : ''} on table ${shown(q)}`;
      let message: string;
      if (target.family === 'bdr1') {
        message = isCreate
          ? `${what}: BDR 1 rejects it: ERROR: EXCLUDE constraints are unsafe with BDR active (SQLSTATE 0A000, spec §7.4, §8); only UNLOGGED or TEMPORARY tables may have one`
          : `${what}: BDR 1 rejects it: ERROR: ALTER TABLE ... ADD CONSTRAINT ... EXCLUDE may only affect UNLOGGED or TEMPORARY tables when BDR is active; ${q.name} is a regular table (SQLSTATE 0A000, spec §7.4, §8)`;
      } else {
        message = `${what}: ${product} rejects exclusion constraints on replicated tables (feature_not_supported, SQLSTATE 0A000; spec §3: they "don't make much sense in an asynchronous system"${isCreate ? '; for CREATE TABLE inferred from the PGD 5.6 release notes, spec §2.2' : ''}): two nodes can each accept rows that conflict. PGD 5.6 and later support them with conflict detection (spec §1.2)`;
      }

      const cols = equalityColumns(con);
      const lines: string[] = [];
      let fix: Fix | undefined;
      if (cols) {
        const unique = uniqueConstraint(con, cols);
        const colList = cols.map(quoteIdent).join(', ');
        lines.push(`-- Every operator is =: the constraint is a UNIQUE constraint on (${colList}), which ${product} replicates.`);
        if (newTable) {
          const n = clone(stmt.node!);
          if (isCreate) {
            n.CreateStmt.tableElts = n.CreateStmt.tableElts.map((e: AstValue) => (nodeType(e) === 'Constraint' && fields(e).location === con.location ? unique : e));
          } else {
            n.AlterTableStmt.cmds = n.AlterTableStmt.cmds.map((c: AstValue) =>
              fields(fields(c).def).location === con.location ? { AlterTableCmd: { ...fields(c), def: unique } } : c,
            );
          }
          const sql = deparse(n);
          lines.push(`${sql};`);
          if (found.length === 1) fix = { steps: [{ sql, mode: 'in-place' }] };
        } else {
          // An existing table: build the unique index without blocking writes, then attach it.
          const idxName = con.conname ?? `${q.name}_${cols.join('_')}_key`;
          const include = con.including ? ` INCLUDE (${names(con.including).map(quoteIdent).join(', ')})` : '';
          const index = `CREATE UNIQUE INDEX CONCURRENTLY ${quoteIdent(idxName)} ON ${tableSql} (${colList})${include}`;
          const attrs = `${con.deferrable ? ' DEFERRABLE' : ''}${con.initdeferred ? ' INITIALLY DEFERRED' : ''}`;
          const attach = `ALTER TABLE ${tableSql} ADD CONSTRAINT ${quoteIdent(idxName)} UNIQUE USING INDEX ${quoteIdent(idxName)}${attrs}`;
          lines.push(`-- 1. On its own, outside any transaction block (no write lock while it builds):`, `${index};`);
          if (target.family === 'bdr1') {
            lines.push(`-- (BDR 1 rejects ADD CONSTRAINT ... USING INDEX on regular tables: the unique index alone enforces the rule.)`);
            if (stmt.f.cmds.length === 1 && !stmt.via) fix = { steps: [{ sql: index, mode: 'outside-transaction' }] };
          } else {
            lines.push(`-- 2. In a transaction of its own, attach it as the constraint:`, `${attach};`);
            if (stmt.f.cmds.length === 1 && !stmt.via) {
              // The statement is replaced: the attach takes its place, after the index is built.
              fix = { steps: [{ sql: index, mode: 'outside-transaction' }, { sql: attach, mode: 'in-place' }] };
            }
          }
        }
      } else {
        lines.push(`-- ${product} cannot enforce this exclusion across nodes. Instead:`);
        if (target.family !== 'bdr1') lines.push(`-- * upgrade to PGD 5.6 or later, which supports EXCLUDE constraints with conflict detection (spec §1.2);`);
        lines.push(
          `-- * enforce the rule in the application, e.g. send every write that could conflict to one node`,
          `--   (a trigger cannot do it: each node checks only the rows it already has);`,
          `-- * where the rule is plain equality, declare it as UNIQUE (col, ...) instead.`,
        );
      }
      ctx.report({ message, suggestion: lines.join('\n'), span, fix: stmt.via ? undefined : fix });
    }
  },
};
