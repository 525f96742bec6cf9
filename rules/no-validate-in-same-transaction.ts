/**
 * no-validate-in-same-transaction: ALTER TABLE ... VALIDATE CONSTRAINT in the transaction that added
 * the constraint NOT VALID.
 * Spec §5.2 ("Execute these steps in two different transactions"), §3 (VALIDATE takes the DDL lock
 * only, the validated ADD the DML lock), §7.1 (BDR 1: both take the global lock in write mode).
 */
import { AstValue, fields, quoteIdent } from '../src/ast';
import type { Table } from '../src/catalog';
import { constraintNameTaken, constraintOf, defaultConstraintName } from '../src/constraint-names';
import { exemptRelation, laterTransactionPlace, relationRef } from '../src/constraint-rewrite';
import { addedNotValid } from '../src/constraint-validation';
import { shown, whereRuns } from '../src/describe';
import type { RunModel, Stmt } from '../src/model';
import type { FixStep, Rule, StatementContext } from '../src/rule';
import { clone, deparse, dollarQuote } from '../src/sqlgen';
import { productName } from '../src/targets';

interface Added {
  stmt: Stmt;
  kind: 'check' | 'foreign';
}

/** Constraints added NOT VALID in this run, by table (object or resolved key) and name. */
const runs = new WeakMap<RunModel, { byTable: Map<Table | string, Map<string, Added>> }>();

function state(model: RunModel): { byTable: Map<Table | string, Map<string, Added>> } {
  let s = runs.get(model);
  if (!s) {
    s = { byTable: new Map() };
    runs.set(model, s);
  }
  return s;
}

/** Two statements share a transaction (a multi-statement string given to bdr.run_on_* runs as one query). */
function sameTransaction(a: Stmt, b: Stmt): boolean {
  if (a.tx === b.tx) return true;
  const remote = (s: Stmt): boolean => !!s.via && s.via.startsWith('run_on_');
  return remote(a) && remote(b) && !!a.parent && a.parent === b.parent;
}

export const rule: Rule = {
  meta: {
    id: 'no-validate-in-same-transaction',
    description: 'VALIDATE CONSTRAINT in the same transaction that added the constraint NOT VALID',
    severity: () => 'error',
    fixable: true,
    spec: ['§5.2', '§3', '§7.1'],
  },
  statement(ctx) {
    const { stmt } = ctx;
    if (stmt.type !== 'AlterTableStmt' || stmt.f.objtype !== 'OBJECT_TABLE') return;
    const rel = relationRef(ctx, stmt.f.relation);
    const tableKey: Table | string = rel.table ?? ctx.catalog.tableKey(rel.q);
    const byTable = state(ctx.model).byTable;
    let known = byTable.get(tableKey);
    const picked = new Set<string>();
    const taken = constraintNameTaken(ctx.catalog, rel.table, rel.q.schema ?? ctx.catalog.creationSchema(rel.q), picked);
    const flagged: Array<{ index: number; name: string; added: Added }> = [];

    (stmt.f.cmds ?? []).forEach((cmdNode: AstValue, i: number) => {
      const cmd = fields(cmdNode);
      if (cmd.subtype === 'AT_AddConstraint') {
        const con = constraintOf(cmd.def);
        if (!con) return;
        const name: string = con.conname || defaultConstraintName(rel.table?.name ?? rel.q.name, con, taken);
        picked.add(name);
        if (!addedNotValid(con)) return;
        if (!known) {
          known = new Map();
          byTable.set(tableKey, known);
        }
        known.set(name, { stmt, kind: con.contype === 'CONSTR_FOREIGN' ? 'foreign' : 'check' });
      } else if (cmd.subtype === 'AT_ValidateConstraint' && cmd.name) {
        const added = known?.get(cmd.name) ?? fromCatalog(rel.table, cmd.name, ctx);
        if (added && sameTransaction(added.stmt, stmt)) flagged.push({ index: i, name: cmd.name, added });
      } else if (cmd.subtype === 'AT_DropConstraint' && cmd.name) {
        known?.delete(cmd.name);
      }
    });
    if (flagged.length === 0) return;
    if (exemptRelation(ctx, stmt.f.relation, rel.table)) return;

    const validateSql = flagged.map((x) => `ALTER TABLE ${rel.sql} VALIDATE CONSTRAINT ${quoteIdent(x.name)}`);
    const rest = clone(stmt.node!);
    const drop = new Set(flagged.map((x) => x.index));
    rest.AlterTableStmt.cmds = (rest.AlterTableStmt.cmds ?? []).filter((_: AstValue, k: number) => !drop.has(k));
    const restSql = rest.AlterTableStmt.cmds.length > 0 ? deparse(rest) : undefined;

    ctx.report({
      message: message(ctx, rel.q, flagged),
      suggestion: suggestion(ctx, restSql, validateSql),
      span: { start: stmt.start, end: stmt.end },
      fix: stmt.via
        ? undefined
        : {
            steps: [
              ...(restSql ? [{ sql: restSql, mode: 'in-place' } as FixStep] : []),
              ...validateSql.map((sql): FixStep => ({ sql, mode: 'own-transaction' })),
            ],
          },
    });
  },
};

/** A NOT VALID constraint the catalog knows was added in this statement's transaction. */
function fromCatalog(table: Table | undefined, name: string, ctx: StatementContext): Added | undefined {
  const c = table?.constraints.get(name);
  if (!c || c.validated || (c.kind !== 'check' && c.kind !== 'foreign')) return undefined;
  if (c.origin.txId !== ctx.stmt.tx.id) return undefined;
  const stmt = ctx.model.files.flatMap((f) => f.statements).find((s) => s.id === c.origin.stmtId);
  return stmt ? { stmt, kind: c.kind } : undefined;
}

function message(ctx: StatementContext, q: { schema?: string; name: string }, flagged: Array<{ name: string; added: Added }>): string {
  const { stmt, target } = ctx;
  const first = flagged[0];
  const line = first.added.stmt.file.source.position(first.added.stmt.start).line;
  const where = first.added.stmt.file === stmt.file ? `line ${line}` : `${first.added.stmt.file.path}:${line}`;
  const names = flagged.map((x) => `"${x.name}"`).join(', ');
  const lock = flagged.some((x) => x.added.kind === 'check')
    ? 'the ACCESS EXCLUSIVE lock the ADD CONSTRAINT took is'
    : 'the SHARE ROW EXCLUSIVE locks the ADD FOREIGN KEY took (on the table and on the referenced table) are';
  const head = `VALIDATE CONSTRAINT ${names} on ${shown(q)} runs ${whereRuns(stmt)}, the same transaction that added it NOT VALID (${where})`;
  let why: string;
  if (target.family === 'bdr1') {
    why = `: the check of every row runs while the table lock the ADD CONSTRAINT took is still held, inside a transaction that already holds BDR 1's global DDL lock in write mode (spec §7.1), on this node and again on every node that replays it`;
  } else {
    why = `: the PGD docs say to "execute these steps in two different transactions" (spec §5.2); in one transaction, the check of every row runs while ${lock} still held, so writes to the table wait on this node and on every node of the ${productName(target)} cluster that replays the transaction: the blocking NOT VALID was meant to avoid`;
  }
  return `${head}${why}`;
}

function suggestion(ctx: StatementContext, restSql: string | undefined, validateSql: string[]): string {
  const { stmt } = ctx;
  const remote = !!stmt.via && stmt.via.startsWith('run_on_');
  const wrap = (sql: string): string => (remote ? `SELECT bdr.run_on_all_nodes(${dollarQuote(sql)});` : `${sql};`);
  const lines: string[] = [];
  if (restSql) lines.push('-- Keep the rest of the statement where it is:', wrap(restSql));
  const place = laterTransactionPlace(stmt);
  const effect =
    ctx.target.family === 'bdr1'
      ? 'BDR 1 takes its global lock in write mode for it too (spec §7.1), but PostgreSQL then holds only SHARE UPDATE EXCLUSIVE on the table: reads go on'
      : 'on its own it takes only the global DDL lock and writes go on (spec §3, §5.2)';
  lines.push(`-- Move the validation ${place}; ${effect}:`);
  for (const sql of validateSql) lines.push(wrap(sql));
  return lines.join('\n');
}
