/**
 * The statements that run in several transactions of their own (CONCURRENTLY), how PostgreSQL
 * names them in its "cannot run inside a transaction block" error, which of them Flyway detects,
 * and how each migration runner lets a migration run outside a transaction.
 * Used by the rules no-concurrent-in-transaction and no-reindex, and by the flyway runner model.
 */
import { AstValue, fields, formatName, nodeType, quoteIdent, quoteLiteral, rangeVarName, strVal } from './ast';
import { shown } from './describe';
import type { Stmt } from './model';
import { hasOption } from './pgd';

/**
 * The statement type PostgreSQL passes to PreventInTransactionBlock for a CONCURRENTLY statement
 * (utility.c, indexcmds.c), i.e. the start of `ERROR: <x> cannot run inside a transaction block`.
 */
export function concurrentLabel(node: AstValue): string | undefined {
  const f = fields(node);
  switch (nodeType(node)) {
    case 'IndexStmt':
      return f.concurrent ? 'CREATE INDEX CONCURRENTLY' : undefined;
    case 'DropStmt':
      return f.concurrent && f.removeType === 'OBJECT_INDEX' ? 'DROP INDEX CONCURRENTLY' : undefined;
    case 'ReindexStmt':
      return hasOption(f.params, 'concurrently') ? 'REINDEX CONCURRENTLY' : undefined;
    case 'AlterTableStmt':
      return (f.cmds ?? []).some((c: AstValue) => fields(c).subtype === 'AT_DetachPartition' && fields(fields(c).def).concurrent)
        ? 'ALTER TABLE ... DETACH CONCURRENTLY'
        : undefined;
    default:
      return undefined;
  }
}

/**
 * Statements Flyway's PostgreSQL parser marks "cannot execute in transaction"
 * (flyway-database-postgresql PostgreSQLParser.detectCanExecuteInTransaction): CREATE/DROP
 * DATABASE|TABLESPACE|SUBSCRIPTION, ALTER SYSTEM, CREATE/DROP [UNIQUE] INDEX CONCURRENTLY,
 * REINDEX [VERBOSE] SCHEMA|DATABASE|SYSTEM, VACUUM, DISCARD ALL. Anything else, e.g.
 * `REINDEX TABLE ... CONCURRENTLY` or `DETACH PARTITION ... CONCURRENTLY`, Flyway runs inside the
 * migration's transaction (docs/runners.md). ALTER TYPE ... ADD VALUE only counts on servers older
 * than 12, which no PGD target with Flyway support is, so it is left out.
 */
export function flywayNonTransactional(node: AstValue): boolean {
  const f = fields(node);
  switch (nodeType(node)) {
    case 'CreatedbStmt':
    case 'DropdbStmt':
    case 'CreateTableSpaceStmt':
    case 'DropTableSpaceStmt':
    case 'CreateSubscriptionStmt':
    case 'DropSubscriptionStmt':
    case 'AlterSystemStmt':
      return true;
    case 'IndexStmt':
      return !!f.concurrent;
    case 'DropStmt':
      return !!f.concurrent && f.removeType === 'OBJECT_INDEX';
    case 'ReindexStmt':
      return f.kind === 'REINDEX_OBJECT_SCHEMA' || f.kind === 'REINDEX_OBJECT_DATABASE' || f.kind === 'REINDEX_OBJECT_SYSTEM';
    case 'VacuumStmt':
      return !!f.is_vacuumcmd;
    case 'DiscardStmt':
      return f.target === 'DISCARD_ALL';
    default:
      return false;
  }
}

/** How a migration of the runner opts out of a transaction (for suggestions). */
export function noTransactionHowTo(runner: string, stmt: Stmt, label: string): string[] {
  const flywayDetects = stmt.node ? flywayNonTransactional(stmt.node) : false;
  switch (runner) {
    case 'flyway':
      return flywayDetects
        ? [
            `-- Flyway: put it in a migration of its own (Flyway runs a file of such statements outside a transaction),`,
            `-- or add ${confName(stmt)} containing: executeInTransaction=false`,
          ]
        : [
            `-- Flyway does not recognise ${label} as non-transactional: it runs it in the migration's transaction.`,
            `-- Put it in a migration of its own with ${confName(stmt)} containing: executeInTransaction=false`,
          ];
    case 'goose':
      return [`-- goose: a migration of its own that starts with the annotation: -- +goose NO TRANSACTION`];
    case 'dbmate':
      return [`-- dbmate: a migration whose up section holds only this statement: -- migrate:up transaction:false`];
    case 'golang-migrate':
      return [`-- golang-migrate sends a whole file as one query: a migration file (.up.sql) that contains only this statement`];
    case 'prisma':
      return [`-- Prisma sends a whole migration.sql as one query: a migration (migration.sql) that contains only this statement`];
    case 'alembic':
      return [`-- Alembic: run it inside op.get_context().autocommit_block() (COMMIT; ... BEGIN; in the --sql output)`];
    case 'django':
      return [`-- Django: a migration of its own with atomic = False`];
    case 'sqitch':
      return [`-- Sqitch: a change whose deploy script has no BEGIN / COMMIT around this statement`];
    default:
      return [`-- Run it on its own, after the COMMIT (not between BEGIN and COMMIT)`];
  }
}

function confName(stmt: Stmt): string {
  const base = stmt.file.path.split(/[\\/]/).pop() ?? stmt.file.path;
  return `${base}.conf`;
}

/** The number of top-level statements of a transaction (embedded SQL not counted). */
export function topLevelCount(stmts: Stmt[]): number {
  return stmts.filter((s) => !s.parent && s.type !== '').length;
}

export const KIND_WORD: Record<string, string> = {
  REINDEX_OBJECT_INDEX: 'INDEX',
  REINDEX_OBJECT_TABLE: 'TABLE',
  REINDEX_OBJECT_SCHEMA: 'SCHEMA',
  REINDEX_OBJECT_DATABASE: 'DATABASE',
  REINDEX_OBJECT_SYSTEM: 'SYSTEM',
};

/** The object's name as SQL (quoted where needed), '' for REINDEX DATABASE/SYSTEM without a name. */
function objectSql(f: AstValue): string {
  if (f.relation) return formatName(rangeVarName(f.relation));
  return f.name ? quoteIdent(String(f.name)) : '';
}

/** The object's name for messages. */
export function objectShown(f: AstValue): string {
  if (f.relation) return shown(rangeVarName(f.relation));
  return f.name ? `"${f.name}"` : '';
}

/**
 * REINDEX in the spelling PostgreSQL 12+ accepts: `REINDEX [ (VERBOSE) ] INDEX CONCURRENTLY name`,
 * with the statement's other options (VERBOSE, TABLESPACE) written `name value`, as PostgreSQL's
 * grammar wants them. (The deparser writes `REINDEX (CONCURRENTLY) INDEX`, which only PostgreSQL
 * 14+ parses, and `tablespace = 'x'`, which no version parses; BDR 3.7 and PGD 4 run on
 * PostgreSQL 11–14.)
 */
export function reindexSql(f: AstValue, concurrently: boolean): string {
  const opts: string[] = [];
  for (const p of f.params ?? []) {
    const d = fields(p);
    if (d.defname === 'concurrently') continue;
    const name = String(d.defname).toUpperCase();
    if (d.arg === undefined || d.arg === null) {
      opts.push(name);
      continue;
    }
    const a = fields(d.arg);
    const num = a?.ival ?? a?.fval;
    const v = d.arg.Boolean ? String(!!a.boolval) : num !== undefined && typeof num !== 'object' ? String(num) : (strVal(d.arg) ?? '');
    opts.push(`${name} ${/^(true|false|on|off|[0-9.]+)$/i.test(v) ? v : quoteLiteral(v)}`);
  }
  const name = objectSql(f);
  return `REINDEX${opts.length > 0 ? ` (${opts.join(', ')})` : ''} ${KIND_WORD[f.kind] ?? 'INDEX'}${concurrently ? ' CONCURRENTLY' : ''}${name ? ` ${name}` : ''}`;
}

