/**
 * The rule framework. A rule is a module in rules/ that exports `rule`: a `meta` block and
 * callbacks over the model, like an ESLint rule. Rules never read files, print, or know the
 * output format: they report findings through the context.
 */
import type { Catalog, Table } from './catalog';
import type { Facts, Session } from './pgd';
import type { FileModel, RunModel, Stmt, Transaction } from './model';
import type { Target } from './targets';
import type { QualifiedName } from './ast';

export type Severity = 'error' | 'warning';
export type SeverityOrOff = Severity | 'off';

export interface RuleMeta {
  id: string;
  /** One line: what the rule flags. */
  description: string;
  /** Default severity of the `recommended` preset on a target. */
  severity: (target: Target) => SeverityOrOff;
  /** Whether --fix can rewrite what it flags. */
  fixable: boolean;
  /** Spec sections the rule rests on. */
  spec?: string[];
  /** Options the rule takes, with their defaults (validated by the config schema). */
  options?: Record<string, { type: 'number' | 'boolean' | 'string' | 'string[]'; default: unknown; description: string }>;
}

/** Where a finding points: a string index range of the file. */
export interface Span {
  start: number;
  end: number;
}

/**
 * How one step of a rewrite must run:
 * - `in-place`: where the flagged statement was, in its transaction;
 * - `own-transaction`: in a later transaction of its own, after the current one has committed;
 * - `outside-transaction`: on its own, outside any transaction block (CONCURRENTLY, COMMIT inside DO);
 * - `transaction-start`: at the start of the statement's transaction (before its first statement).
 */
export type FixMode = 'in-place' | 'own-transaction' | 'outside-transaction' | 'transaction-start';

export interface FixStep {
  /** One SQL statement (or DO block), without the trailing semicolon. */
  sql: string;
  mode: FixMode;
}

/** The mechanical rewrite of the flagged statement: the steps that replace it, in order. */
export interface Fix {
  steps: FixStep[];
  /** When true, the original statement stays (steps are only added around it). */
  keepOriginal?: boolean;
  /**
   * Split the statement's transaction right before each of these statements of it (top-level),
   * keeping their order: each part commits before the next begins. Used with no steps and
   * `keepOriginal`.
   */
  splitBefore?: Stmt[];
}

export interface Report {
  message: string;
  /** The concrete SQL to write instead, and where each step must run. */
  suggestion?: string;
  /** Override of the position: default is the whole statement. */
  span?: Span;
  /** Override of the rule's severity for this finding (before config overrides). */
  severity?: Severity;
  /** The rewrite for --fix; its presence makes the finding fixable. */
  fix?: Fix;
}

export interface StatementContext {
  target: Target;
  options: Record<string, unknown>;
  model: RunModel;
  file: FileModel;
  stmt: Stmt;
  /** The catalog as it is just before this statement runs. */
  catalog: Catalog;
  /** PGD facts about this statement on the target. */
  facts: Facts;
  session: Readonly<Session>;
  /** Facts of statements already replayed (earlier in the run). */
  factsOf(stmt: Stmt): Facts | undefined;
  /** True when a table was created earlier in the same file ("new" in the contract's sense). */
  isNewTable(table: Table | undefined): boolean;
  /** True when the object was created in the statement's own transaction. */
  createdInTx(table: Table | undefined): boolean;
  /** Resolves a name to a table of the catalog. */
  table(q: QualifiedName): Table | undefined;
  /** The string index of an AST location of this statement. */
  at(location: number | undefined): number;
  report(r: Report): void;
}

export interface TransactionContext {
  target: Target;
  options: Record<string, unknown>;
  model: RunModel;
  tx: Transaction;
  catalog: Catalog;
  factsOf(stmt: Stmt): Facts | undefined;
  report(stmt: Stmt, r: Report): void;
}

export interface EndContext {
  target: Target;
  options: Record<string, unknown>;
  model: RunModel;
  catalog: Catalog;
  report(stmt: Stmt, r: Report): void;
}

export interface Rule {
  meta: RuleMeta;
  /** Called for every executed, parsed statement (embedded SQL included), in run order. */
  statement?(ctx: StatementContext): void;
  /** Called when a transaction ends (all its statements replayed). */
  transaction?(ctx: TransactionContext): void;
  /** Called once after the whole run. */
  end?(ctx: EndContext): void;
}

/** A docs link for a rule id. */
export function docsUrl(id: string): string {
  return `https://github.com/pgd-lint/pgd-lint/blob/main/docs/rules/${id}.md`;
}
