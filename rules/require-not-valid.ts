/**
 * require-not-valid: ADD CONSTRAINT CHECK / FOREIGN KEY (also REFERENCES or CHECK on ADD COLUMN)
 * on an existing table without NOT VALID.
 * Spec §3 (a validated ADD CONSTRAINT takes the global DML lock), §5.2 (NOT VALID, then VALIDATE
 * in another transaction: both take the DDL lock only), §1.1 (BDR 3.7: EPE/EPAS only),
 * §7.1 (BDR 1: ADD and VALIDATE CONSTRAINT take the global lock in write mode).
 */
import { AstValue, QualifiedName, fields, quoteIdent } from '../src/ast';
import { constraintNameTaken, constraintOf, defaultConstraintName } from '../src/constraint-names';
import { exemptRelation, laterTransactionPlace, relationRef } from '../src/constraint-rewrite';
import { columnConstraints, makeNotValid, tableLevel, validatesOnAdd } from '../src/constraint-validation';
import { shown } from '../src/describe';
import { describeLock } from '../src/pgd';
import type { FixStep, Rule, StatementContext } from '../src/rule';
import { clone, dollarQuote, tryDeparse } from '../src/sqlgen';
import { writtenSql } from '../src/unsupported-local-ddl';
import { Target, productName } from '../src/targets';

interface Found {
  kind: 'check' | 'foreign';
  name: string;
  /** Set for a constraint written on an ADD COLUMN. */
  column?: string;
  /** The referenced table of a foreign key, as written. */
  references?: QualifiedName;
}

export const rule: Rule = {
  meta: {
    id: 'require-not-valid',
    description:
      'ADD CONSTRAINT CHECK / FOREIGN KEY (or REFERENCES on ADD COLUMN) on an existing table without NOT VALID: every row is checked under the global DML lock',
    severity: () => 'error',
    fixable: true,
    spec: ['§3', '§5.2', '§1.1', '§7.1'],
  },
  statement(ctx) {
    const { stmt } = ctx;
    if (stmt.type !== 'AlterTableStmt' || stmt.f.objtype !== 'OBJECT_TABLE') return;
    const rel = relationRef(ctx, stmt.f.relation);
    if (exemptRelation(ctx, stmt.f.relation, rel.table)) return;

    const picked = new Set<string>();
    const taken = constraintNameTaken(ctx.catalog, rel.table, rel.q.schema ?? ctx.catalog.creationSchema(rel.q), picked);
    const tableName = rel.table?.name ?? rel.q.name;
    const rewritten = clone(stmt.node!);
    const rcmds: AstValue[] = rewritten.AlterTableStmt.cmds ?? [];
    const found: Found[] = [];
    const added: AstValue[] = []; // ADD CONSTRAINT ... NOT VALID statements split off ADD COLUMN

    (stmt.f.cmds ?? []).forEach((cmdNode: AstValue, i: number) => {
      const cmd = fields(cmdNode);
      if (cmd.subtype === 'AT_AddConstraint') {
        const con = constraintOf(cmd.def);
        if (!con || !validatesOnAdd(con)) return;
        const name: string = con.conname || defaultConstraintName(tableName, con, taken);
        picked.add(name);
        const rc = fields(fields(rcmds[i]).def);
        rc.conname = name;
        makeNotValid(rc);
        found.push({ kind: con.contype === 'CONSTR_FOREIGN' ? 'foreign' : 'check', name, references: referenced(con) });
      } else if (cmd.subtype === 'AT_AddColumn') {
        const def = fields(cmd.def);
        const moved = columnConstraints(def).filter((cc) => cc.enforced && validatesOnAdd(cc.con));
        if (moved.length === 0) return;
        const drop = new Set(moved.flatMap((cc) => cc.indices));
        const rdef = fields(fields(rcmds[i]).def);
        rdef.constraints = (rdef.constraints ?? []).filter((_: AstValue, k: number) => !drop.has(k));
        if (rdef.constraints.length === 0) delete rdef.constraints;
        for (const cc of moved) {
          const name: string = cc.con.conname || defaultConstraintName(tableName, cc.con, taken, def.colname);
          picked.add(name);
          const con = tableLevel(cc, def.colname, name);
          makeNotValid(con);
          added.push({
            AlterTableStmt: {
              relation: clone(stmt.f.relation),
              cmds: [{ AlterTableCmd: { subtype: 'AT_AddConstraint', def: { Constraint: con }, behavior: 'DROP_RESTRICT' } }],
              objtype: 'OBJECT_TABLE',
            },
          });
          found.push({ kind: cc.con.contype === 'CONSTR_FOREIGN' ? 'foreign' : 'check', name, column: def.colname, references: referenced(cc.con) });
        }
      }
    });
    if (found.length === 0) return;

    const validates = found.map((x) => `ALTER TABLE ${rel.sql} VALIDATE CONSTRAINT ${quoteIdent(x.name)}`);
    const first = tryDeparse(rewritten);
    const rest = added.map((n) => tryDeparse(n));
    // When the deparser cannot write the statements, the suggestion shows the statement as written
    // (to be changed by hand) and there is no fix.
    const writable = first !== undefined && rest.every((x) => x !== undefined);
    const inPlace = writable ? [first, ...(rest as string[])] : [`${writtenSql(stmt)} /* with NOT VALID on the constraints it adds */`];
    const partitionedFk = !!rel.table?.partitioned && found.some((x) => x.kind === 'foreign');

    ctx.report({
      message: message(ctx, rel.q, found),
      suggestion: suggestion(ctx, inPlace, validates, found, partitionedFk),
      span: { start: stmt.start, end: stmt.end },
      fix:
        stmt.via || partitionedFk || !writable
          ? undefined
          : {
              steps: [
                ...inPlace.map((sql): FixStep => ({ sql, mode: 'in-place' })),
                ...validates.map((sql): FixStep => ({ sql, mode: 'own-transaction' })),
              ],
            },
    });
  },
};

function referenced(con: AstValue): QualifiedName | undefined {
  if (con.contype !== 'CONSTR_FOREIGN' || !con.pktable) return undefined;
  return { schema: con.pktable.schemaname || undefined, name: con.pktable.relname ?? '' };
}

function describeFound(x: Found): string {
  const what = x.kind === 'foreign' ? `FOREIGN KEY "${x.name}"` : `CHECK "${x.name}"`;
  return x.column ? `${what} (on new column "${x.column}")` : what;
}

function message(ctx: StatementContext, q: { schema?: string; name: string }, found: Found[]): string {
  const { facts, target } = ctx;
  const list = found.map(describeFound).join(', ');
  const refs = [...new Set(found.filter((x) => x.references).map((x) => shown(x.references!)))];
  const refNote = refs.length > 0 ? ` (a foreign key also locks the referenced table ${refs.join(', ')} in SHARE ROW EXCLUSIVE mode meanwhile)` : '';
  const head = `ALTER TABLE ${shown(q)} adds ${list} without NOT VALID on an existing table: PostgreSQL checks every existing row while it holds the table lock${refNote}`;
  let consequence: string;
  if (facts.lock === 'dml') {
    consequence = `; on ${productName(target)} the statement takes ${describeLock('dml', target)} for the whole check`;
  } else if (facts.lock === 'ddl') {
    consequence = `; on ${productName(target)} it takes ${describeLock('ddl', target)}, and every node that replays it checks all rows again while writes to the table wait there`;
  } else {
    const why = facts.localReason ? ` (${facts.localReason})` : '';
    consequence = `; it takes no global lock here${why}, but writes to the table wait on every node where it runs, for the whole check`;
  }
  return `${head}${consequence}. Add it NOT VALID, then VALIDATE CONSTRAINT in a later transaction (spec §5.2)`;
}

function stepNotes(target: Target): { add: string; validate: string } {
  if (target.family === 'bdr1') {
    return {
      add: 'no row is checked, so the global DDL lock BDR 1 takes in write mode is held only briefly (spec §7.1)',
      validate:
        'checks the existing rows; BDR 1 takes its global lock in write mode again (spec §7.1), but PostgreSQL only holds SHARE UPDATE EXCLUSIVE: reads go on; run it when writes can pause',
    };
  }
  if (target.family === 'bdr3') {
    return {
      add: 'no row is checked; on EDB Postgres Extended/Advanced it takes only the global DDL lock, on community PostgreSQL BDR 3.7 still takes the global DML lock, but only for an instant (spec §1.1, §5.2)',
      validate: 'checks the existing rows under the global DDL lock only: writes go on (spec §3, §5.2)',
    };
  }
  return {
    add: 'no row is checked; takes only the global DDL lock (spec §5.2)',
    validate: 'checks the existing rows under the global DDL lock only, once every node has caught up: writes go on (spec §3, §5.2)',
  };
}

function suggestion(ctx: StatementContext, inPlace: string[], validates: string[], found: Found[], partitionedFk: boolean): string {
  const { stmt, target } = ctx;
  const remote = !!stmt.via && stmt.via.startsWith('run_on_');
  const wrap = (sql: string): string => (remote ? `SELECT bdr.run_on_all_nodes(${dollarQuote(sql)});` : `${sql};`);
  const notes = stepNotes(target);
  const lines: string[] = [];
  lines.push(`-- 1. In place of this statement: add the constraint${found.length > 1 ? 's' : ''} NOT VALID; ${notes.add}`);
  for (const sql of inPlace) lines.push(wrap(sql));
  lines.push(`-- 2. ${capitalize(laterTransactionPlace(stmt))}: ${notes.validate}`);
  for (const sql of validates) lines.push(wrap(sql));
  if (partitionedFk) {
    lines.push('-- The table is partitioned: PostgreSQL before 18 rejects NOT VALID foreign keys on partitioned tables;');
    lines.push('-- there, add the foreign key NOT VALID to each partition and validate each, then add it to the parent.');
  }
  return lines.join('\n');
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
