/**
 * require-concurrent-index: CREATE INDEX without CONCURRENTLY on an existing table.
 * Spec §2.2 (CREATE INDEX takes the global DML lock), §5.4 (CONCURRENTLY, run_on_all_nodes),
 * §7.1 and §7.4 (BDR 1: write lock; CONCURRENTLY is replicated).
 */
import { rangeVarName } from '../src/ast';
import { shown, sqlName } from '../src/describe';
import { describeLock } from '../src/pgd';
import type { Rule } from '../src/rule';
import { clone, deparseOr, dollarQuote, tryDeparse } from '../src/sqlgen';
import { writtenSql } from '../src/unsupported-local-ddl';

export const rule: Rule = {
  meta: {
    id: 'require-concurrent-index',
    description: 'CREATE INDEX on an existing table without CONCURRENTLY (takes the global DML lock: writes stop on every node)',
    severity: () => 'error',
    fixable: true,
    spec: ['§2.2', '§5.4', '§7.1', '§7.4'],
    options: {
      indexStrategy: {
        type: 'string',
        default: 'concurrently',
        description: 'How --fix rewrites: "concurrently" (CREATE INDEX CONCURRENTLY outside any transaction) or "run-on-all-nodes" (bdr.run_on_all_nodes, spec §5.4)',
      },
    },
  },
  statement(ctx) {
    const { stmt, facts, target } = ctx;
    if (stmt.type !== 'IndexStmt' || stmt.f.concurrent) return;
    const q = rangeVarName(stmt.f.relation);
    const table = ctx.table(q);
    if (ctx.isNewTable(table)) return; // created earlier in this file: still empty
    if (stmt.f.relation?.relpersistence === 't' || (q.schema ?? '').startsWith('pg_temp') || (table && table.persistence === 'temp')) return;
    if (table && table.persistence === 'unlogged' && target.family !== 'pgd6') return; // not replicated
    if (stmt.via === 'function') return;
    // CREATE INDEX ... ON ONLY <partitioned table>: the parent has no rows of its own, so the index is
    // created (invalid) without reading a row; it is the first step of building a partitioned index
    // without blocking writes (the per-partition indexes are then built CONCURRENTLY and attached).
    // PostgreSQL has no CONCURRENTLY for a partitioned table. ONLY on a table the migrations did not
    // create is taken as a partitioned one: on a plain table ONLY only matters with INHERITS children.
    if (stmt.f.relation && !stmt.f.relation.inh && (!table || table.partitioned)) return;

    const index = stmt.f.idxname ? `"${stmt.f.idxname}" ` : '';
    const onTable = `existing table ${shown(q)}`;
    let consequence: string;
    if (facts.lock !== 'none') {
      consequence = `takes ${describeLock(facts.lock, target)} for the whole build`;
    } else {
      consequence = 'blocks writes to the table on every node where it runs, for the whole build';
    }
    const message = `CREATE ${stmt.f.unique ? 'UNIQUE ' : ''}INDEX ${index}on ${onTable} without CONCURRENTLY ${consequence}`;

    const concurrent = clone(stmt.node!);
    concurrent.IndexStmt.concurrent = true;
    // When the deparser cannot write the statement (a tree shape it does not know, or nested too
    // deeply), the suggestion is the statement as written with CONCURRENTLY added, and no fix.
    const deparsed = tryDeparse(concurrent);
    const sql = deparsed ?? writtenSql(stmt).replace(/^(\s*CREATE\s+(?:UNIQUE\s+)?INDEX)\b/i, '$1 CONCURRENTLY');
    const partitioned = table?.partitioned;
    const lines: string[] = [];
    if (partitioned) {
      lines.push(
        `-- ${shown(q)} is partitioned: PostgreSQL cannot build its index CONCURRENTLY in one statement.`,
        `-- 1. Create the index on the parent only (instant, no rows):`,
        `${deparseOr(onlyParent(stmt.node!), () => writtenSql(stmt).replace(/\bON\s+(?!ONLY\b)/i, 'ON ONLY '))};`,
        `-- 2. For each partition, outside any transaction block: CREATE INDEX CONCURRENTLY ... ON <partition> (...);`,
        `-- 3. Attach each: ALTER INDEX <parent index> ATTACH PARTITION <partition index>;`,
      );
    } else if (target.family === 'bdr1') {
      lines.push(`-- Run on its own, outside any transaction block (BDR 1 replicates CONCURRENTLY):`, `${sql};`);
    } else {
      lines.push(
        `-- Run on its own, outside any transaction block (not in BEGIN ... COMMIT, not in a runner's transaction):`,
        `${sql};`,
        `-- or, as the PGD docs recommend (§5.4), on every node with DDL replication off:`,
        `SELECT bdr.run_on_all_nodes(${dollarQuote(sql)});`,
      );
    }
    void sqlName;
    ctx.report({
      message,
      suggestion: lines.join('\n'),
      span: { start: stmt.start, end: stmt.end },
      fix:
        partitioned || deparsed === undefined
          ? undefined
          : ctx.options.indexStrategy === 'run-on-all-nodes' && target.family !== 'bdr1'
            ? { steps: [{ sql: `SELECT bdr.run_on_all_nodes(${dollarQuote(sql)})`, mode: 'in-place' }] }
            : { steps: [{ sql, mode: 'outside-transaction' }] },
    });
  },
};

/** CREATE INDEX ... ON ONLY parent: the first step for a partitioned table. */
function onlyParent(node: Record<string, any>): Record<string, any> {
  const n = clone(node);
  n.IndexStmt.relation.inh = false;
  n.IndexStmt.concurrent = false;
  return n;
}
