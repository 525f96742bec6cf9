/**
 * Shared by the constraint rules (require-not-valid, no-validate-in-same-transaction,
 * require-using-index): which relations they skip, how a relation is named in messages and SQL,
 * and where a "later" step has to go for the statement's transaction.
 */
import { AstValue, QualifiedName, formatName, rangeVarName } from './ast';
import type { Table } from './catalog';
import type { Stmt } from './model';
import type { StatementContext } from './rule';
import type { Target } from './targets';

/** A relation as the statement wrote it, resolved against the catalog. */
export interface RelationRef {
  q: QualifiedName;
  table: Table | undefined;
  /** SQL spelling as written (schema-qualified when the user qualified it). */
  sql: string;
}

export function relationRef(ctx: StatementContext, rv: AstValue): RelationRef {
  const q = rangeVarName(rv);
  return { q, table: ctx.table(q), sql: formatName(q) };
}

/** Temporary relations: never replicated, no global lock. */
export function isTempRelation(rv: AstValue, table: Table | undefined): boolean {
  if (rv?.relpersistence === 't') return true;
  if (rv?.schemaname && String(rv.schemaname).startsWith('pg_temp')) return true;
  return !!table && table.persistence === 'temp';
}

/** Unlogged tables are not replicated before PGD 6 (spec §2.2; on PGD 6 they are, as DDL — inferred). */
export function isUnreplicatedUnlogged(table: Table | undefined, target: Target): boolean {
  return !!table && table.persistence === 'unlogged' && target.family !== 'pgd6';
}

/**
 * True when the constraint rules leave a statement on this relation alone: created earlier in the
 * same file (still empty), temporary, or unlogged where unlogged tables are not replicated.
 */
export function exemptRelation(ctx: StatementContext, rv: AstValue, table: Table | undefined): boolean {
  if (ctx.isNewTable(table)) return true;
  if (isTempRelation(rv, table)) return true;
  return isUnreplicatedUnlogged(table, ctx.target);
}

/** Where a step that must run in a later transaction goes, worded for the statement's transaction. */
export function laterTransactionPlace(stmt: Stmt): string {
  if (stmt.via === 'do') return 'outside the DO block, in a later transaction of its own (a DO block runs as one transaction)';
  switch (stmt.tx.kind) {
    case 'explicit':
      return 'after COMMIT, in a transaction of its own';
    case 'runner':
      return 'in the next migration file (the runner runs each file in one transaction)';
    case 'implicit':
      return 'in the next migration file (the whole file is sent as one query: one implicit transaction)';
    default:
      return 'in a later transaction of its own, after this one has committed';
  }
}

/** Where a step that must run outside any transaction block goes. */
export function outsideTransactionPlace(stmt: Stmt): string {
  switch (stmt.tx.kind) {
    case 'runner':
      return 'outside any transaction block: in a migration file of its own that the runner does not wrap in a transaction';
    case 'implicit':
      return 'outside any transaction block: in a migration file of its own with this single statement';
    case 'explicit':
      return 'outside any transaction block (before BEGIN or after COMMIT)';
    default:
      return 'outside any transaction block';
  }
}
