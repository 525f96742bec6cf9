/**
 * no-reindex: REINDEX without CONCURRENTLY (blocks the table on every node where it runs), and
 * REINDEX CONCURRENTLY where REINDEX is not replicated (it rebuilds the index on one node only).
 * Spec §1.1 (replicated up to BDR 3.6, not since 3.7), §1.2 (replicated again from PGD 5.6),
 * §1.3 (PGD 6), §2.2 (REINDEX row), §5.5 (REINDEX CONCURRENTLY; per node, inferred), §7.2 (BDR 1
 * command filter skips REINDEX: local only).
 */
import { AstValue, formatName, quoteIdent, rangeVarName } from '../src/ast';
import { KIND_WORD, objectShown, reindexSql } from '../src/concurrent-statements';
import type { Index, Table } from '../src/catalog';
import type { Stmt } from '../src/model';
import { describeLock, hasOption } from '../src/pgd';
import type { StatementContext, Rule } from '../src/rule';
import { clone, deparse, dollarQuote } from '../src/sqlgen';
import { Target, atLeast, productName } from '../src/targets';

/** Whether the target replicates REINDEX as DDL (spec §1.1, §1.2, §1.3, §2.2, §7.2). */
export function reindexReplicated(target: Target): boolean {
  switch (target.family) {
    case 'bdr1':
      return false; // command filter skip list (§7.2)
    case 'bdr3':
      return target.minor <= 6; // "replicated in versions up to 3.6 but not with PGD 3.7 or later"
    case 'pgd4':
      return false;
    case 'pgd5':
      return atLeast(target, 5, 6); // 5.6.0 release notes: REINDEX and REINDEX CONCURRENTLY replicated
    case 'pgd6':
      return true;
    default:
      return false;
  }
}

/** Where the target's REINDEX rule comes from, for messages. */
function replicationSource(target: Target): string {
  switch (target.family) {
    case 'bdr1':
      return "BDR 1's command filter skips REINDEX (spec §7.2)";
    case 'bdr3':
      return target.minor <= 6 ? 'REINDEX is replicated up to BDR 3.6 (spec §1.1)' : 'REINDEX is not replicated since BDR 3.7 (spec §1.1)';
    case 'pgd4':
      return 'REINDEX is not replicated on PGD 4 (spec §1.1, §2.2)';
    case 'pgd5':
      return atLeast(target, 5, 6) ? 'REINDEX is replicated from PGD 5.6 (spec §1.2)' : 'REINDEX is not replicated before PGD 5.6 (spec §1.2, §2.2)';
    default:
      return 'REINDEX is replicated on PGD 6 (spec §1.3)';
  }
}

/** The table a REINDEX INDEX / TABLE works on, when the migrations created it. */
function tableOf(ctx: StatementContext, f: AstValue): { table?: Table; index?: Index } {
  if (!f.relation) return {};
  const q = rangeVarName(f.relation);
  if (f.kind === 'REINDEX_OBJECT_INDEX') {
    const index = ctx.catalog.index(q);
    return { index, table: index ? ctx.catalog.tables.get(index.table) : undefined };
  }
  return { table: ctx.table(q) };
}

function isTemp(f: AstValue, table: Table | undefined): boolean {
  const schema = f.relation?.schemaname;
  if (typeof schema === 'string' && schema.startsWith('pg_temp')) return true;
  return !!table && table.persistence === 'temp';
}

/** What a plain REINDEX locks, in PostgreSQL's terms. */
function lockText(f: AstValue): string {
  const name = objectShown(f);
  switch (f.kind) {
    case 'REINDEX_OBJECT_INDEX':
      return `holds an ACCESS EXCLUSIVE lock on index ${name} and a SHARE lock on its table for the whole rebuild: writes to the table stop, and so does nearly every query on it (the planner locks every index of the table)`;
    case 'REINDEX_OBJECT_TABLE':
      return `holds a SHARE lock on table ${name} and an ACCESS EXCLUSIVE lock on each of its indexes while it is rebuilt: writes to the table stop, and so does nearly every query on it`;
    case 'REINDEX_OBJECT_SCHEMA':
      return `rebuilds every index of schema ${name}, table by table, each under a SHARE lock on the table and ACCESS EXCLUSIVE locks on its indexes: writes and most queries stop on each table in turn`;
    case 'REINDEX_OBJECT_DATABASE':
      return `rebuilds every index of ${name ? `database ${name}` : 'the current database'}, table by table, each under a SHARE lock on the table and ACCESS EXCLUSIVE locks on its indexes: writes and most queries stop on each table in turn`;
    default:
      return `rebuilds every system catalog index under ACCESS EXCLUSIVE locks: nearly every session of the database waits`;
  }
}

/** The CREATE INDEX statement that created an index, when it is in the run. */
function creatingStatement(ctx: StatementContext, index: Index | undefined): Stmt | undefined {
  if (!index) return undefined;
  for (const file of ctx.model.files) {
    for (const s of file.statements) {
      if (s.id === index.origin.stmtId) return s.type === 'IndexStmt' ? s : undefined;
    }
  }
  return undefined;
}

/** BDR 1 (PostgreSQL 9.4–9.6) has no REINDEX CONCURRENTLY: build a replacement index instead. */
function bdr1Suggestion(ctx: StatementContext, f: AstValue, index: Index | undefined): string[] {
  const lines = [
    `-- BDR 1 runs on PostgreSQL 9.4-9.6, which has no REINDEX CONCURRENTLY. Build a replacement index and swap it in;`,
    `-- BDR 1 replicates CREATE INDEX CONCURRENTLY (spec §7.4), so this also covers the nodes a local REINDEX would miss.`,
  ];
  if (f.kind === 'REINDEX_OBJECT_INDEX') {
    const q = rangeVarName(f.relation);
    const newName = { schema: undefined, name: `${q.name}_new` };
    const creating = creatingStatement(ctx, index);
    let create: string;
    if (creating?.node) {
      const n = clone(creating.node);
      n.IndexStmt.concurrent = true;
      n.IndexStmt.idxname = newName.name;
      n.IndexStmt.if_not_exists = false;
      create = `${deparse(n)};`;
    } else {
      create = `--    CREATE INDEX CONCURRENTLY ${formatName(newName)} ON <its table> (<the columns of ${formatName(q)}>);`;
    }
    lines.push(
      `-- 1. On its own, outside any transaction block (a non-unique one takes only the global DDL lock):`,
      create,
      `-- 2. In one transaction of its own (BDR 1's global DDL lock in write mode, held only briefly):`,
      `DROP INDEX ${formatName(q)};`,
      `ALTER INDEX ${formatName(q.schema ? { schema: q.schema, name: newName.name } : newName)} RENAME TO ${quoteIdent(q.name)};`,
    );
    if (index?.unique || creating?.f.unique) {
      lines.push(`-- If the index backs a PRIMARY KEY or UNIQUE constraint it cannot be swapped on BDR 1 (ADD CONSTRAINT ... USING INDEX is rejected):`);
      lines.push(`-- run the REINDEX in a maintenance window instead, on every node (it is not replicated).`);
    }
  } else {
    lines.push(
      `-- For each index of ${objectShown(f) ? `${(KIND_WORD[f.kind] ?? '').toLowerCase()} ${objectShown(f)}` : 'the database'}, outside any transaction block:`,
      `--    CREATE INDEX CONCURRENTLY <index>_new ON <table> (<the columns of <index>>);`,
      `-- then, in one transaction of its own: DROP INDEX <index>; ALTER INDEX <index>_new RENAME TO <index>;`,
      `-- Indexes behind PRIMARY KEY / UNIQUE constraints cannot be swapped on BDR 1: REINDEX them in a maintenance window, on every node.`,
    );
  }
  return lines;
}

export const rule: Rule = {
  meta: {
    id: 'no-reindex',
    description:
      'REINDEX without CONCURRENTLY (locks the table on every node where it runs); REINDEX CONCURRENTLY where REINDEX is not replicated (bdr1, bdr3.7, pgd4, pgd5.0-5.5)',
    severity: () => 'error',
    fixable: true,
    spec: ['§1.1', '§1.2', '§1.3', '§2.2', '§5.5', '§7.2'],
  },
  statement(ctx) {
    const { stmt, target, facts } = ctx;
    if (stmt.type !== 'ReindexStmt') return;
    const f = stmt.f;
    const { table, index } = tableOf(ctx, f);
    if (isTemp(f, table)) return; // a temporary table is private to the session
    const concurrent = hasOption(f.params, 'concurrently');
    const remote = stmt.tx.kind === 'remote';
    const forced = stmt.via === 'replicate_ddl_command' || stmt.via === 'bdr_replicate_ddl_command';
    const replicated = reindexReplicated(target);
    const product = productName(target);
    const what = ['REINDEX', KIND_WORD[f.kind], objectShown(f)].filter((x) => x).join(' ');

    if (concurrent && f.kind === 'REINDEX_OBJECT_SYSTEM') {
      // PostgreSQL: ERROR: cannot reindex system catalogs concurrently (on every version and target).
      ctx.report({
        message: `${what} CONCURRENTLY fails: PostgreSQL cannot rebuild system catalog indexes concurrently (ERROR: cannot reindex system catalogs concurrently)`,
        suggestion: [
          `-- REINDEX SYSTEM has no concurrent form: leave it out of the migration and run REINDEX SYSTEM in a maintenance window${replicated ? '' : ', on every node (it is not replicated)'},`,
          `-- outside any transaction block. To rebuild the other indexes without blocking writes: REINDEX DATABASE CONCURRENTLY (it skips system catalogs).`,
        ].join('\n'),
        span: { start: stmt.start, end: stmt.end },
      });
      return;
    }

    if (concurrent) {
      if (replicated || remote || forced) return;
      if (target.family === 'bdr1') {
        ctx.report({
          severity: 'warning',
          message: `${what} CONCURRENTLY: BDR 1 runs on PostgreSQL 9.4-9.6, which has no REINDEX CONCURRENTLY (PostgreSQL 12+), so the statement fails there; and ${replicationSource(target)}, so a REINDEX would only rebuild the index on the node where the migration runs`,
          suggestion: bdr1Suggestion(ctx, f, index).join('\n'),
          span: { start: stmt.start, end: stmt.end },
        });
        return;
      }
      const sql = reindexSql(f, true);
      ctx.report({
        severity: 'warning',
        message: `${what} CONCURRENTLY only runs on the node where the migration runs: ${replicationSource(target)}. The other nodes keep their old index; it must be run on every node`,
        suggestion: [
          `-- ${product} does not replicate REINDEX: run it on every node (spec §5.5; the run_on_all_nodes form is inferred),`,
          `-- outside any transaction block, and check the JSON result for per-node errors:`,
          `SELECT bdr.run_on_all_nodes(${dollarQuote(sql)});`,
          `-- or connect to each node in turn and run: ${sql};  (reindexdb --concurrently does the same)`,
        ].join('\n'),
        span: { start: stmt.start, end: stmt.end },
        fix: stmt.via ? undefined : { steps: [{ sql: `SELECT bdr.run_on_all_nodes(${dollarQuote(sql)})`, mode: 'in-place' }] },
      });
      return;
    }

    // Not concurrent: blocks the table wherever it runs.
    let where: string;
    if (remote) {
      where = 'it runs on every node through bdr.run_on_*, blocking each node in turn';
    } else if (forced) {
      where = 'bdr.replicate_ddl_command replicates it: every node runs it and blocks the same way';
    } else if (replicated && facts.replicated) {
      where = `${replicationSource(target)}: every node runs it and blocks the same way${facts.lock !== 'none' ? `, and it takes ${describeLock(facts.lock, target)}` : ''}`;
    } else if (replicated) {
      where = `it runs only on the node where the migration runs (${facts.localReason ?? 'DDL replication is off'}): the other nodes' indexes are not rebuilt`;
    } else {
      where = `${replicationSource(target)}: it only blocks and rebuilds on the node where the migration runs; the other nodes' indexes are not rebuilt`;
    }
    const blockNote =
      stmt.tx.block && (f.kind === 'REINDEX_OBJECT_SCHEMA' || f.kind === 'REINDEX_OBJECT_DATABASE' || f.kind === 'REINDEX_OBJECT_SYSTEM')
        ? `. Inside a transaction block PostgreSQL also rejects it: ERROR: REINDEX ${KIND_WORD[f.kind]} cannot run inside a transaction block`
        : '';
    const message = `${what} without CONCURRENTLY ${lockText(f)} ("Avoid using REINDEX because of the AccessExclusiveLocks it holds", spec §5.5); ${where}${blockNote}`;

    if (f.kind === 'REINDEX_OBJECT_SYSTEM') {
      ctx.report({
        message,
        suggestion: [
          `-- REINDEX SYSTEM cannot run CONCURRENTLY (PostgreSQL rebuilds system catalog indexes only under exclusive locks).`,
          `-- Leave it out of the migration: run it in a maintenance window${replicated ? '' : ', on every node (it is not replicated)'}, outside any transaction block.`,
        ].join('\n'),
        span: { start: stmt.start, end: stmt.end },
      });
      return;
    }

    if (target.family === 'bdr1') {
      ctx.report({ message, suggestion: bdr1Suggestion(ctx, f, index).join('\n'), span: { start: stmt.start, end: stmt.end } });
      return;
    }

    const sql = reindexSql(f, true);
    const lines: string[] = [];
    if (replicated || forced) {
      lines.push(
        `-- On its own, outside any transaction block (not in BEGIN ... COMMIT, not in a runner's transaction);`,
        `-- ${product} replicates it, so every node rebuilds its index without blocking writes:`,
        `${sql};`,
      );
    } else {
      lines.push(
        `-- ${product} does not replicate REINDEX: run it on every node (spec §5.5; the run_on_all_nodes form is inferred),`,
        `-- outside any transaction block, and check the JSON result for per-node errors:`,
        `SELECT bdr.run_on_all_nodes(${dollarQuote(sql)});`,
        `-- or connect to each node in turn and run, outside any transaction block: ${sql};`,
      );
    }
    if (f.kind === 'REINDEX_OBJECT_DATABASE' || f.kind === 'REINDEX_OBJECT_SCHEMA') {
      lines.push(`-- (REINDEX ... CONCURRENTLY skips system catalogs, which cannot be rebuilt concurrently.)`);
    }
    ctx.report({
      message,
      suggestion: lines.join('\n'),
      span: { start: stmt.start, end: stmt.end },
      // Where REINDEX is not replicated, on every node (bdr.run_on_all_nodes runs it over connections of its own).
      fix: stmt.via
        ? undefined
        : replicated || forced
          ? { steps: [{ sql, mode: 'outside-transaction' }] }
          : { steps: [{ sql: `SELECT bdr.run_on_all_nodes(${dollarQuote(sql)})`, mode: 'in-place' }] },
    });
  },
};
