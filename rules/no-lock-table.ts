/**
 * no-lock-table: LOCK TABLE is not replicated: it locks the table on the node where the migration
 * runs, while the other nodes keep writing (and those writes replicate in).
 * Spec §2.2 (LOCK TABLE row: not replicated; DML lock only with bdr.lock_table_locking), §1.1 (BDR
 * 3.7: "only executed locally"), §1.3 (PGD 6.1: leader DDL/DML lock by mode), §4
 * (bdr.lock_table_locking, bdr.global_lock_table), §7.2 (BDR 1: LOCK is on the command filter's
 * skip list).
 */
import { AstValue, formatName, quoteLiteral, rangeVarName } from '../src/ast';
import { shown } from '../src/describe';
import type { Rule } from '../src/rule';
import { Target, atLeast, productName } from '../src/targets';

/** LOCKMODE numbers of PostgreSQL (lockdefs.h) as LOCK TABLE spells them. */
const MODES: Record<number, string> = {
  1: 'ACCESS SHARE',
  2: 'ROW SHARE',
  3: 'ROW EXCLUSIVE',
  4: 'SHARE UPDATE EXCLUSIVE',
  5: 'SHARE',
  6: 'SHARE ROW EXCLUSIVE',
  7: 'EXCLUSIVE',
  8: 'ACCESS EXCLUSIVE',
};

/** What the target does with LOCK TABLE besides the local lock (spec §1.3, §2.2, §4). */
function targetNote(target: Target, mode: number): string {
  switch (target.family) {
    case 'bdr1':
      return "BDR 1's command filter skips LOCK (spec §7.2): it is neither replicated nor turned into a global lock, and BDR 1 has no cluster-wide table lock";
    case 'bdr3':
      return `LOCK TABLE is "only executed locally" on ${productName(target)} (spec §1.1): no global lock is taken`;
    case 'pgd4':
    case 'pgd5':
      return `LOCK TABLE is not replicated on ${productName(target)} (spec §2.2); it only takes the global DML lock when bdr.lock_table_locking is on (default off, spec §4)`;
    default: {
      if (atLeast(target, 6, 1)) {
        const lock = mode >= 6 ? `the leader DML lock for ${MODES[mode]} mode` : mode <= 4 ? `the leader DDL lock for ${MODES[mode]} mode` : 'a leader lock (the docs do not say which one for SHARE mode)';
        return `With bdr.lock_table_locking on (the PGD 6 default) ${productName(target)} also takes ${lock} (spec §1.3), but that is not the lock mode you asked for, and it depends on a setting the migration does not control`;
      }
      return `With bdr.lock_table_locking on (the PGD 6 default, spec §4) ${productName(target)} also takes a global lock, but that is not the lock mode you asked for, and it depends on a setting the migration does not control`;
    }
  }
}

export const rule: Rule = {
  meta: {
    id: 'no-lock-table',
    description: 'LOCK TABLE: not replicated, it only locks the node where the migration runs (use bdr.global_lock_table())',
    severity: () => 'warning',
    fixable: false,
    spec: ['§1.1', '§1.3', '§2.2', '§4', '§7.2'],
  },
  statement(ctx) {
    const { stmt, target } = ctx;
    if (stmt.type !== 'LockStmt') return;
    const rels: AstValue[] = (stmt.f.relations ?? []).map((r: AstValue) => r.RangeVar ?? r);
    // Temporary and unlogged tables: their rows never leave this node, so a local lock is all there is.
    const shared = rels.filter((rv) => {
      if (rv.relpersistence === 't' || (typeof rv.schemaname === 'string' && rv.schemaname.startsWith('pg_temp'))) return false;
      const t = ctx.table(rangeVarName(rv));
      return !(t && (t.persistence === 'temp' || t.persistence === 'unlogged'));
    });
    if (shared.length === 0) return;

    const mode: number = stmt.f.mode ?? 8;
    const modeName = MODES[mode] ?? 'ACCESS EXCLUSIVE';
    const names = shared.map((rv) => shown(rangeVarName(rv))).join(', ');
    const remote = stmt.tx.kind === 'remote';
    const head = `LOCK TABLE ${names} IN ${modeName} MODE`;
    let message: string;
    if (remote) {
      message = `${head} through bdr.${stmt.via}() locks each node only for the remote call's own transaction, which ends at once: it protects nothing on any node`;
    } else {
      const local =
        target.family === 'pgd6'
          ? `is not replicated: the ${modeName} lock is held only on the node where the migration runs`
          : `only locks ${shared.length > 1 ? 'them' : 'it'} on the node where the migration runs: writes on the other nodes continue and replicate in`;
      message = `${head} ${local}. ${targetNote(target, mode)}`;
    }
    if (!stmt.tx.block && stmt.via !== 'do' && !remote) {
      message += `. Outside a transaction block PostgreSQL also rejects it: ERROR: LOCK TABLE can only be used in transaction blocks`;
    }

    const lines: string[] = [];
    if (target.family === 'bdr1') {
      lines.push(
        `-- BDR 1 has no cluster-wide equivalent of LOCK TABLE (bdr.global_lock_table() exists only from BDR 3.7).`,
        `-- Design the migration not to need it: e.g. make the change idempotent and safe under concurrent writes,`,
        `-- or stop the writers on every node (application side) while it runs.`,
      );
    } else {
      lines.push(
        `-- In the same transaction, instead of LOCK TABLE: take the global DML lock, which stops writes to the table on every node`,
        `-- (spec §4: regardless of bdr.ddl_locking; needs UPDATE, DELETE or TRUNCATE privilege; every data node must answer):`,
        ...shared.map((rv) => `SELECT bdr.global_lock_table(${quoteLiteral(formatName(rangeVarName(rv)))});`),
      );
      if (mode === 8) {
        lines.push(`-- It blocks writes, not reads. If reads must stop too, keep LOCK TABLE ${shared.map((rv) => formatName(rangeVarName(rv))).join(', ')} IN ACCESS EXCLUSIVE MODE after it (this node only).`);
      }
    }
    ctx.report({ message, suggestion: lines.join('\n'), span: { start: stmt.start, end: stmt.end } });
  },
};
