/**
 * no-unlogged-table: CREATE UNLOGGED TABLE (also CREATE UNLOGGED TABLE AS / SELECT INTO UNLOGGED)
 * and ALTER TABLE ... SET UNLOGGED. Unlogged tables write no WAL, so logical replication never
 * sees their rows; PGD does not replicate unlogged relations (spec §1, §2.2 CREATE TEMP/UNLOGGED
 * TABLE row; §3 SET UNLOGGED row, inferred). BDR 1: §7.1 (no global lock for unlogged objects),
 * §7.4 (ALTER TABLE variants outside the allowed list are rejected on regular tables).
 */
import { AstValue, fields, formatName, rangeVarName } from '../src/ast';
import { shown } from '../src/describe';
import { describeLock } from '../src/pgd';
import type { Rule } from '../src/rule';
import { clone, deparse } from '../src/sqlgen';
import { productName } from '../src/targets';

const NOT_SEEN = 'unlogged tables write no WAL, so logical replication never sees their rows';

export const rule: Rule = {
  meta: {
    id: 'no-unlogged-table',
    description: 'CREATE UNLOGGED TABLE and ALTER TABLE ... SET UNLOGGED: the rows are not replicated',
    severity: (target) => (target.family === 'pgd6' ? 'off' : 'warning'),
    // The rewrite changes the table's persistence on purpose, so --fix cannot prove it keeps the schema.
    fixable: false,
    spec: ['§1', '§2.2', '§3', '§7.1', '§7.4'],
  },
  statement(ctx) {
    const { stmt, target, facts } = ctx;
    const product = productName(target);

    // CREATE UNLOGGED TABLE / CREATE UNLOGGED TABLE AS / SELECT ... INTO UNLOGGED.
    let rv: AstValue | undefined;
    let kind = '';
    if (stmt.type === 'CreateStmt') {
      rv = stmt.f.relation;
      kind = 'CREATE UNLOGGED TABLE';
    } else if (stmt.type === 'CreateTableAsStmt' && stmt.f.objtype === 'OBJECT_TABLE') {
      rv = stmt.f.into?.rel;
      kind = 'CREATE UNLOGGED TABLE ... AS';
    } else if (stmt.type === 'SelectStmt' && stmt.f.intoClause) {
      rv = stmt.f.intoClause.rel;
      kind = 'SELECT ... INTO UNLOGGED';
    }
    if (rv && rv.relpersistence === 'u') {
      const name = shown(rangeVarName(rv));
      const where =
        stmt.tx.kind === 'remote' || stmt.via === 'replicate_ddl_command' || stmt.via === 'bdr_replicate_ddl_command'
          ? `bdr.${stmt.via}() creates it on every node, but ${NOT_SEEN}`
          : target.family === 'bdr1'
          ? `BDR 1 takes no global lock for it (spec §7.1) and never replicates the table's rows (${NOT_SEEN})`
          : `${product} does not replicate unlogged relations (spec §1, §2.2): the CREATE runs only on the node where the migration runs, so the other nodes do not have the table`;
      const message = `${kind} ${name}: ${where}. Rows written to ${name} exist only on the node that writes them, and are emptied after a crash`;

      const permanent = clone(stmt.node!);
      const node = stmt.type === 'CreateStmt' ? permanent.CreateStmt.relation : stmt.type === 'CreateTableAsStmt' ? permanent.CreateTableAsStmt.into.rel : permanent.SelectStmt.intoClause.rel;
      node.relpersistence = 'p';
      const sql = deparse(permanent);
      const lines = [`-- A permanent (logged) table: its DDL and its rows are replicated to every node:`, `${sql};`];
      // A permanent CREATE TABLE AS is rejected on BDR 1 and restricted on BDR 3 (no-create-table-as).
      const ctas = stmt.type !== 'CreateStmt';
      const ctasRestricted = ctas && (target.family === 'bdr1' || target.family === 'bdr3');
      if (ctasRestricted) {
        lines.splice(0, lines.length, `-- A permanent (logged) table, declared with its columns (${product} restricts CREATE TABLE AS of a permanent table, see no-create-table-as):`, `-- CREATE TABLE ${sqlNameOf(rv)} (<column> <type>, ...); then INSERT INTO ${sqlNameOf(rv)} <the query>;`);
      }
      lines.push(`-- If the data is scratch data for one session, say so with CREATE TEMPORARY TABLE instead.`);
      ctx.report({ message, suggestion: lines.join('\n'), span: { start: stmt.start, end: stmt.end } });
      return;
    }

    // ALTER TABLE ... SET UNLOGGED.
    if (stmt.type !== 'AlterTableStmt' || stmt.f.objtype !== 'OBJECT_TABLE') return;
    const cmds: AstValue[] = stmt.f.cmds ?? [];
    if (!cmds.some((c) => fields(c).subtype === 'AT_SetUnLogged')) return;
    const q = rangeVarName(stmt.f.relation);
    const table = ctx.table(q);
    if (stmt.f.relation?.relpersistence === 't' || (table && table.persistence === 'temp')) return;
    const name = shown(q);
    let message: string;
    if (target.family === 'bdr1') {
      message = `ALTER TABLE ${name} SET UNLOGGED: BDR 1 rejects it on a regular table (ERROR: This variant of ALTER TABLE may only affect UNLOGGED or TEMPORARY tables when BDR is active; ${q.name} is a regular table, spec §7.4; PostgreSQL 9.4 has no SET UNLOGGED at all). An unlogged table's rows would not be replicated (${NOT_SEEN})`;
    } else {
      const lock = facts.lock !== 'none' ? `; the ALTER itself rewrites the whole table under ${describeLock(facts.lock, target)}` : '; the ALTER itself rewrites the whole table';
      message = `ALTER TABLE ${name} SET UNLOGGED: from then on ${product} no longer replicates ${name}'s rows (spec §3, inferred from §1: unlogged relations are not replicated). Rows written on each node stay on that node, so the nodes' copies drift apart, and a crash empties the table${lock}`;
    }
    const rest = cmds.filter((c) => fields(c).subtype !== 'AT_SetUnLogged');
    const lines = [`-- Keep ${name} logged (replicated): leave SET UNLOGGED out.`];
    if (rest.length > 0) {
      const n = clone(stmt.node!);
      n.AlterTableStmt.cmds = clone(rest);
      lines.push(`${deparse(n)};`);
    }
    ctx.report({ message, suggestion: lines.join('\n'), span: { start: stmt.start, end: stmt.end } });
  },
};

function sqlNameOf(rv: AstValue): string {
  return formatName(rangeVarName(rv));
}
