/**
 * no-set-not-null: ALTER TABLE … ALTER COLUMN … SET NOT NULL on an existing table without a validated
 * CHECK (col IS NOT NULL) first. Spec §3 (SET/DROP NOT NULL takes the global DML lock), §5.2 (NOT VALID
 * + VALIDATE take only the DDL lock), §7.1 (BDR 1: DDL lock only, but still a full scan), §9.7.
 *
 * PostgreSQL 12+ skips the scan of SET NOT NULL when a validated CHECK constraint proves the column
 * has no NULLs (NotNullImpliedByRelConstraints → predicate_implied_by, weak): `col IS NOT NULL`, alone
 * or ANDed with other conditions. A strict comparison (`col > 0`) is no proof: a CHECK lets NULL pass.
 */
import { AstValue, fields, nodeType, quoteIdent } from '../src/ast';
import type { Constraint } from '../src/catalog';
import { Step, alteredTable, fixSteps, helperName, notNullViaCheck, stepsText, tableRef } from '../src/column-rewrite';
import { shown } from '../src/describe';
import { describeLock } from '../src/pgd';
import type { Rule } from '../src/rule';
import { clone, deparse } from '../src/sqlgen';
import { productName } from '../src/targets';

export const rule: Rule = {
  meta: {
    id: 'no-set-not-null',
    description: 'ALTER COLUMN … SET NOT NULL on an existing table without a validated CHECK (col IS NOT NULL) first',
    severity: () => 'warning',
    fixable: true,
    spec: ['§3', '§5.2', '§7.1', '§9.7'],
  },
  statement(ctx) {
    const { stmt, target, facts } = ctx;
    const altered = alteredTable(ctx);
    if (!altered || altered.isNew) return; // a table created earlier in this file is still empty
    const { q, table } = altered;

    const cmds: AstValue[] = stmt.f.cmds ?? [];
    const added = new Set(
      cmds.map(fields).filter((c) => c.subtype === 'AT_AddColumn').map((c) => fields(c.def).colname as string),
    );
    const flagged: string[] = [];
    const flaggedIdx = new Set<number>();
    cmds.forEach((cmdNode, i) => {
      const cmd = fields(cmdNode);
      if (cmd.subtype !== 'AT_SetNotNull') return;
      const column: string = cmd.name;
      if (added.has(column)) return; // added by this very statement
      const col = table?.columns.get(column);
      if (col?.notNull) return; // already NOT NULL: PostgreSQL does nothing
      const checks = table ? table.constraints.values() : ctx.catalog.externalCheckConstraints(q)?.values();
      if (checks && hasValidatedNotNullCheck(checks, column)) return;
      flagged.push(column);
      flaggedIdx.add(i);
    });
    if (flagged.length === 0) return;

    const cols = flagged.map((c) => `"${c}"`).join(', ');
    const subject = `ALTER COLUMN ${cols} SET NOT NULL on existing table ${shown(q)}`;
    let consequence: string;
    if (target.family === 'bdr1') {
      consequence =
        'BDR 1 takes only its global DDL lock for SET NOT NULL (spec §7.1), but every node still scans the whole table for NULLs ' +
        'under an ACCESS EXCLUSIVE lock (no reads or writes of the table there meanwhile)';
    } else if (facts.lock !== 'none') {
      consequence =
        `scans the whole table for NULLs under an ACCESS EXCLUSIVE lock and takes ${describeLock(facts.lock, target)} ` +
        `for the whole scan (spec §3: SET NOT NULL takes the DML lock on ${productName(target)})`;
    } else {
      consequence = `scans the whole table for NULLs under an ACCESS EXCLUSIVE lock on every node where it runs (no reads or writes of the table meanwhile)`;
    }
    const proof = `CHECK (${flagged.length === 1 ? quoteIdent(flagged[0]) : 'col'} IS NOT NULL)`;
    const message =
      target.family === 'bdr1'
        ? `${subject}: ${consequence}`
        : `${subject} ${consequence}; there is no validated ${proof} that would let PostgreSQL 12+ skip the scan`;

    const t = tableRef(q);
    const rest = cmds.filter((_, i) => !flaggedIdx.has(i));
    let remaining: string | undefined;
    if (rest.length > 0) {
      const copy = clone(stmt.node!);
      copy.AlterTableStmt.cmds = rest;
      remaining = deparse(copy);
    }
    if (target.family === 'bdr1') {
      const lines: string[] = [
        '-- BDR 1 runs PostgreSQL 9.4–9.6, which cannot use a CHECK constraint to skip the scan of SET NOT NULL,',
        '-- and VALIDATE CONSTRAINT takes its global DDL lock in write mode (spec §7.1): there is no scan-free route.',
        '-- Either run the SET NOT NULL at a quiet time, or enforce the rule with a validated CHECK instead of NOT NULL:',
      ];
      if (remaining) lines.push(`${remaining};`);
      for (const c of flagged) {
        const con = helperName(q.name, c, 'not_null');
        lines.push(`ALTER TABLE ${t.sql} ADD CONSTRAINT ${quoteIdent(con)} CHECK (${quoteIdent(c)} IS NOT NULL) NOT VALID;`);
      }
      lines.push('-- own transaction: checks the existing rows (writes stop on every node while it runs)');
      for (const c of flagged) lines.push(`ALTER TABLE ${t.sql} VALIDATE CONSTRAINT ${quoteIdent(helperName(q.name, c, 'not_null'))};`);
      ctx.report({ message, suggestion: lines.join('\n'), span: { start: stmt.start, end: stmt.end } });
      return;
    }

    // A CHECK (col IS NOT NULL) added NOT VALID earlier only needs its VALIDATE, in a transaction of its own, and stays.
    const checks = [...((table ? table.constraints.values() : ctx.catalog.externalCheckConstraints(q)?.values()) ?? [])];
    const pendingCheck = (column: string): string | undefined =>
      checks.find((c) => c.kind === 'check' && !c.validated && c.expr && impliesNotNull(c.expr, column))?.name;
    const perColumn = flagged.map((c) => {
      const pending = pendingCheck(c);
      if (!pending) return notNullViaCheck({ target, table: t, column: c, firstMode: 'in-place' });
      return [
        undefined,
        { comment: 'own transaction: VALIDATE the existing NOT VALID CHECK (global DDL lock only)', sql: `ALTER TABLE ${t.sql} VALIDATE CONSTRAINT ${quoteIdent(pending)}`, mode: 'own-transaction' as const },
        { comment: 'own transaction, after the VALIDATE has committed: PostgreSQL 12+ skips the scan', sql: `ALTER TABLE ${t.sql} ALTER COLUMN ${quoteIdent(c)} SET NOT NULL`, mode: 'own-transaction' as const },
        undefined,
      ];
    });
    const steps: Step[] = [];
    if (remaining) steps.push({ comment: 'in place: the rest of the statement', sql: remaining, mode: 'in-place' });
    // All ADD CONSTRAINTs, then all VALIDATEs, then SET NOT NULL, then DROP CONSTRAINT.
    for (let k = 0; k < 4; k++) for (const list of perColumn) if (list[k]) steps.push(list[k]!);
    const text = [
      '-- Prove the column has no NULLs with a CHECK constraint validated without blocking writes; SET NOT NULL then skips its scan',
      '-- (PostgreSQL 12+; the PGD docs\' own version of this omits SET, spec §9.7).',
      stepsText(steps),
    ].join('\n');
    ctx.report({
      message,
      suggestion: text,
      span: { start: stmt.start, end: stmt.end },
      fix: stmt.via ? undefined : { steps: fixSteps(steps) },
    });
  },
};

/** A validated CHECK constraint among these whose expression implies `column IS NOT NULL`. */
export function hasValidatedNotNullCheck(constraints: Iterable<Constraint>, column: string): boolean {
  for (const c of constraints) {
    if (c.kind !== 'check' || !c.validated || !c.expr) continue;
    if (impliesNotNull(c.expr, column)) return true;
  }
  return false;
}

function isColumn(node: AstValue, column: string): boolean {
  if (nodeType(node) !== 'ColumnRef') return false;
  const parts = (fields(node).fields ?? []).map((f: AstValue) => f?.String?.sval);
  return parts.length > 0 && parts[parts.length - 1] === column;
}

/**
 * predicate_implied_by(col IS NOT NULL, expr, weak = true), for the shapes CHECK constraints take.
 * PostgreSQL compares CHECK constraints with *weak* implication (ConstraintImpliedByRelConstraint):
 * a CHECK passes when its expression is NULL, so a strict comparison (`col > 0`, `col IN (...)`,
 * `col BETWEEN ...`) proves nothing, and SET NOT NULL still scans. Only `col IS NOT NULL` (also
 * written `NOT (col IS NULL)`, which eval_const_expressions turns into it), alone, ANDed with other
 * conditions, or in every arm of an OR, is a proof.
 */
function impliesNotNull(expr: AstValue, column: string): boolean {
  const t = nodeType(expr);
  const f = fields(expr);
  switch (t) {
    case 'NullTest':
      return f.nulltesttype === 'IS_NOT_NULL' && isColumn(f.arg, column);
    case 'BoolExpr':
      if (f.boolop === 'AND_EXPR') return (f.args ?? []).some((a: AstValue) => impliesNotNull(a, column));
      if (f.boolop === 'OR_EXPR') return (f.args ?? []).length > 0 && (f.args ?? []).every((a: AstValue) => impliesNotNull(a, column));
      if (f.boolop === 'NOT_EXPR') {
        const inner = f.args?.[0];
        return nodeType(inner) === 'NullTest' && fields(inner).nulltesttype === 'IS_NULL' && isColumn(fields(inner).arg, column);
      }
      return false;
    default:
      return false;
  }
}
