/**
 * no-concurrent-in-transaction: CREATE/DROP INDEX CONCURRENTLY, REINDEX CONCURRENTLY and
 * ALTER TABLE ... DETACH PARTITION CONCURRENTLY where PostgreSQL refuses them: inside a
 * transaction block (BEGIN ... COMMIT, the runner's transaction, the implicit block of a
 * multi-statement query) or inside a DO block / function. PostgreSQL's PreventInTransactionBlock:
 * "ERROR: <stmt> cannot run inside a transaction block" / "cannot be executed from a function"
 * (SQLSTATE 25001). SQL run by bdr.run_on_* runs over its own connection on every node: fine,
 * unless several statements go in one call (one query: one implicit block).
 */
import { fields } from '../src/ast';
import { concurrentLabel, noTransactionHowTo, reindexSql, topLevelCount } from '../src/concurrent-statements';
import { whereRuns } from '../src/describe';
import type { Stmt, Transaction } from '../src/model';
import type { Rule, StatementContext } from '../src/rule';
import { deparseOr } from '../src/sqlgen';
import { writtenSql } from '../src/unsupported-local-ddl';

const RUNNER_NAMES: Record<string, string> = {
  flyway: 'Flyway',
  goose: 'goose',
  dbmate: 'dbmate',
  'golang-migrate': 'golang-migrate',
  prisma: 'Prisma',
  alembic: 'Alembic',
  django: 'Django',
  sqitch: 'Sqitch',
  plain: 'the runner',
};

function lineOf(stmt: Stmt, index: number): number {
  return stmt.file.source.position(index).line;
}

/** Which transaction block the statement is in, in words. */
function whichBlock(stmt: Stmt, tx: Transaction, runner: string): string {
  const tool = RUNNER_NAMES[runner] ?? runner;
  switch (tx.kind) {
    case 'explicit': {
      const begin = tx.statements.find((s) => s.type === 'TransactionStmt' && ['TRANS_STMT_BEGIN', 'TRANS_STMT_START'].includes(fields(s.node).kind));
      return begin ? `inside the BEGIN ... COMMIT block opened on line ${lineOf(stmt, begin.start)}` : 'inside a BEGIN ... COMMIT block';
    }
    case 'runner':
      switch (runner) {
        case 'goose':
          return 'inside the transaction goose wraps around the migration (the file has no -- +goose NO TRANSACTION)';
        case 'dbmate':
          return 'inside the transaction dbmate wraps around the -- migrate:up section (no transaction:false)';
        case 'flyway':
          return 'inside the transaction Flyway wraps around the migration';
        default:
          return `inside the transaction ${tool} wraps around the migration`;
      }
    case 'implicit': {
      const n = topLevelCount(tx.statements);
      const how =
        runner === 'dbmate'
          ? 'dbmate sends a transaction:false section as one query'
          : runner === 'golang-migrate' || runner === 'prisma'
            ? `${tool} sends the whole migration file as one query`
            : 'the section is sent as one query';
      if (n > 1) return `inside an implicit transaction block: ${how}, and PostgreSQL runs the ${n} statements of a multi-statement query as one transaction block`;
      // Alone after a COMMIT of the same query: PostgreSQL opens a new implicit block for what follows the COMMIT.
      return `inside an implicit transaction block: ${how}, and PostgreSQL runs a statement that follows a COMMIT in a multi-statement query in a new implicit transaction block`;
    }
    default:
      return whereRuns(stmt);
  }
}

/** Statements decoded from the same bdr.run_on_* string: one query per node. */
function sameCallStatements(ctx: StatementContext, stmt: Stmt): Stmt[] {
  return ctx.file.statements.filter((s) => s.parent === stmt.parent && s.via === stmt.via && s.at === stmt.at && s.type !== '');
}

/** SQL of the statement for suggestions (REINDEX in the PostgreSQL 12+ spelling); as written when the deparser cannot write it. */
function sqlOf(stmt: Stmt): string {
  if (stmt.type === 'ReindexStmt') return reindexSql(stmt.f, true);
  return deparseOr(stmt.node!, () => writtenSql(stmt));
}

export const rule: Rule = {
  meta: {
    id: 'no-concurrent-in-transaction',
    description:
      'CREATE/DROP INDEX CONCURRENTLY, REINDEX CONCURRENTLY or DETACH PARTITION CONCURRENTLY inside a transaction block (explicit, the runner\'s or a multi-statement query), a DO block or a function: PostgreSQL rejects it',
    severity: () => 'error',
    fixable: true,
    spec: ['§5.4', '§5.5'],
  },
  statement(ctx) {
    const { stmt } = ctx;
    const runner = ctx.model.runner ?? 'plain';

    // Function bodies are not executed by the migration: check them when the function is created.
    if (stmt.type === 'CreateFunctionStmt') {
      for (const s of ctx.file.statements) {
        if (s.via !== 'function' || !s.node || !isInside(s, stmt)) continue;
        const label = concurrentLabel(s.node);
        if (!label) continue;
        const fn = (stmt.f.funcname ?? []).map((n: { String?: { sval?: string } }) => n.String?.sval ?? '').join('.');
        ctx.report({
          message: `${label} in the body of ${stmt.f.is_procedure ? 'procedure' : 'function'} "${fn}" fails whenever it is called: PostgreSQL rejects it with ERROR: ${label} cannot be executed from a function (SQLSTATE 25001)`,
          suggestion: [`-- Run it as a top-level statement of its own, outside any transaction block, not from a function or procedure:`, `${sqlOf(s)};`].join('\n'),
          span: { start: s.start, end: s.end },
        });
      }
      return;
    }

    if (!stmt.node) return;
    const label = concurrentLabel(stmt.node);
    if (!label) return;
    const tx = stmt.tx;
    const sql = sqlOf(stmt);
    const error = (how: string): string => `PostgreSQL rejects it with ERROR: ${label} ${how} (SQLSTATE 25001)`;

    if (tx.kind === 'remote') {
      // bdr.run_on_* sends its SQL to each node as one query.
      const siblings = sameCallStatements(ctx, stmt);
      if (siblings.length <= 1) return;
      // Report each call once, at its first CONCURRENTLY statement.
      if (siblings.find((s) => s.node && concurrentLabel(s.node)) !== stmt) return;
      ctx.report({
        message: `${label} shares one bdr.${stmt.via}() call with ${siblings.length - 1} other statement(s): each node receives them as one multi-statement query, an implicit transaction block, and ${error('cannot run inside a transaction block')} (inferred: run_on_* sends the text as one query)`,
        suggestion: [`-- One bdr.${stmt.via}() call per statement, outside any transaction block:`, ...siblings.map((s) => `SELECT bdr.${stmt.via}($ddl$ ${s.node ? sqlOf(s) : ''} $ddl$);`)].join('\n'),
        span: { start: stmt.start, end: stmt.end },
      });
      return;
    }

    const inBlock = tx.block;
    if (!inBlock && stmt.via !== 'do') return;

    const lines: string[] = [];
    let message: string;
    if (inBlock) {
      const where = stmt.via === 'do' ? `inside a DO block, ${whichBlock(stmt, tx, runner)}` : whichBlock(stmt, tx, runner);
      message = `${label} ${where}, so ${error('cannot run inside a transaction block')}: it must commit transactions of its own`;
    } else {
      message = `${label} inside a DO block, so ${error('cannot be executed from a function')} (or "cannot run inside a transaction block" in a block with an EXCEPTION clause)`;
    }

    if (stmt.via === 'do') {
      lines.push(`-- Take it out of the DO block: a top-level statement of its own, outside any transaction block:`);
    } else if (tx.kind === 'explicit' && runner !== 'plain' && runner !== 'sqitch' && runner !== 'alembic' && runner !== 'django') {
      lines.push(`-- Take it out of BEGIN ... COMMIT and into a migration that runs outside a transaction:`);
      lines.push(...noTransactionHowTo(runner, stmt, label));
    } else if (tx.kind === 'explicit') {
      lines.push(`-- Take it out of BEGIN ... COMMIT: run it on its own, after the COMMIT:`);
      if (runner !== 'plain') lines.push(...noTransactionHowTo(runner, stmt, label));
    } else {
      lines.push(`-- Move it to a migration that runs outside a transaction:`);
      lines.push(...noTransactionHowTo(runner, stmt, label));
    }
    lines.push(`${sql};`);
    ctx.report({
      message,
      suggestion: lines.join('\n'),
      span: { start: stmt.start, end: stmt.end },
      fix: stmt.via ? undefined : { steps: [{ sql, mode: 'outside-transaction' }] },
    });
  },
};

function isInside(s: Stmt, outer: Stmt): boolean {
  for (let p = s.parent; p; p = p.parent) if (p === outer) return true;
  return false;
}
