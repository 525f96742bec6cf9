/**
 * require-ddl-locking-permit: on BDR 1, a transaction whose first statement that takes the global
 * DDL lock is not preceded by `SET LOCAL bdr.permit_ddl_locking = true`.
 * Spec §7.1: `bdr.permit_ddl_locking` (default true in the source) set to false rejects "any command
 * that would acquire the global DDL lock" with `ERROR: Global DDL locking attempt rejected by
 * configuration` (SQLSTATE 55000); the recommended pattern (and Fedora's, [FED]) is
 * `ALTER DATABASE ... SET bdr.permit_ddl_locking = false` and, per migration,
 * `BEGIN; SET LOCAL bdr.permit_ddl_locking = true; ... COMMIT;`. BDR 1 checks the setting only
 * the first time a transaction takes the lock (bdr_locks.c).
 */
import type { Stmt, Transaction } from '../src/model';
import type { Report, Rule } from '../src/rule';
import { SessionSettings, parseBool } from '../src/session-settings';
import { commandTag } from '../src/stmt-tag';
import { concurrentLabel } from '../src/concurrent-statements';
import { enumAddValueLabel } from '../src/pgd';

const SETTING = 'bdr.permit_ddl_locking';
const PERMIT = 'SET LOCAL bdr.permit_ddl_locking = true';

const settings = new SessionSettings();
/** Transactions already checked (the setting matters only at the first lock). */
const checked = new WeakSet<Transaction>();
/** Findings waiting for their transaction to end, reported on the top-level statement (a DO block's child is fixed through the block). */
const pending = new WeakMap<Transaction, { stmt: Stmt; report: Report }>();

export const rule: Rule = {
  meta: {
    id: 'require-ddl-locking-permit',
    description: 'On BDR 1, a transaction that takes the global DDL lock without SET LOCAL bdr.permit_ddl_locking = true first',
    severity: (target) => (target.family === 'bdr1' ? 'error' : 'off'),
    fixable: true,
    spec: ['§7.1', '§7.2', '§8'],
    options: {
      assumeDefault: {
        type: 'boolean',
        default: false,
        description:
          "Assume the cluster keeps BDR 1's default bdr.permit_ddl_locking = true (no ALTER DATABASE ... SET bdr.permit_ddl_locking = false): the rule then reports nothing",
      },
    },
  },
  statement(ctx) {
    const { stmt, facts } = ctx;
    const check = (): void => {
      // The setting exists only in BDR 1 (even when the rule is forced on for another target).
      if (ctx.options.assumeDefault === true || ctx.target.family !== 'bdr1') return;
      if (facts.lock === 'none' || checked.has(stmt.tx)) return;
      // bdr.bdr_replicate_ddl_command() runs its command without the global DDL lock (§7.1).
      if (stmt.via === 'bdr_replicate_ddl_command') return;
      checked.add(stmt.tx);
      const current = settings.get(ctx.model, stmt, SETTING);
      if (parseBool(current.value) === true) return;

      const tag = commandTag(stmt.node);
      const line = (s: Stmt): number => s.file.source.position(s.start).line;
      const error =
        'ERROR: Global DDL locking attempt rejected by configuration (SQLSTATE 55000), DETAIL: bdr.permit_ddl_locking is false ' +
        'and the attempted command would require the global lock to be acquired. Command rejected.';
      let message: string;
      if (current.by && current.value !== undefined) {
        message = `${tag} takes BDR 1's global DDL lock, but bdr.permit_ddl_locking was set to ${current.value} at line ${line(current.by)}, so BDR 1 rejects it: ${error}`;
      } else {
        const reset = current.by ? ` (bdr.permit_ddl_locking was reset to the database default at line ${line(current.by)})` : '';
        const ignored = settings.ignoredLocal(ctx.model, stmt, SETTING);
        const noEffect = ignored && !reset ? ` (the SET LOCAL at line ${line(ignored)} ran outside a transaction block and had no effect)` : '';
        message =
          `${tag} takes BDR 1's global DDL lock, but no ${PERMIT} precedes it in its transaction${reset}${noEffect}: on a cluster that follows ` +
          `the recommended ALTER DATABASE ... SET bdr.permit_ddl_locking = false (the Fedora convention), BDR 1 rejects it: ${error}`;
      }
      pending.set(stmt.tx, {
        stmt: topOf(stmt),
        report: {
          message,
          suggestion: suggestion(stmt),
          span: { start: stmt.start, end: stmt.end },
          // A SET LOCAL earlier in the same transaction would override a permit put at its start.
          fix: current.by && current.local && current.by.tx === stmt.tx ? undefined : { steps: [{ sql: PERMIT, mode: 'transaction-start' }], keepOriginal: true },
        },
      });
    };
    check();
    settings.observe(ctx.model, stmt);
  },
  transaction(ctx) {
    settings.endTransaction(ctx.model, ctx.tx);
    const p = pending.get(ctx.tx);
    if (p) {
      pending.delete(ctx.tx);
      ctx.report(p.stmt, p.report);
    }
  },
};

/** The top-level statement that contains a statement (itself when it is top-level). */
function topOf(s: Stmt): Stmt {
  let t = s;
  while (t.parent) t = t.parent;
  return t;
}

function text(s: Stmt): string {
  const t = s.file.source.text.slice(s.start, s.end).trim();
  return t.endsWith(';') ? t : `${t};`;
}

function suggestion(stmt: Stmt): string {
  const top = topOf(stmt);
  const noBlock = concurrentLabel(top.node) ?? enumAddValueLabel(top.node);
  switch (stmt.tx.kind) {
    case 'single':
      if (noBlock) {
        // CONCURRENTLY (and, on PostgreSQL 9.4–9.6, ADD VALUE) cannot run in a transaction block:
        // permit the lock for the session around it instead.
        return [
          `-- ${noBlock} cannot run inside a transaction block, so SET LOCAL cannot permit it: permit DDL locking for the session around it:`,
          'SET bdr.permit_ddl_locking = true;',
          text(top),
          'RESET bdr.permit_ddl_locking;',
        ].join('\n');
      }
      // SET LOCAL outside a transaction block does nothing (WARNING: SET LOCAL can only be used in transaction blocks).
      return [
        '-- Run it in a transaction block that permits DDL locking first (SET LOCAL outside a transaction block has no effect):',
        'BEGIN;',
        `${PERMIT};`,
        text(top),
        'COMMIT;',
      ].join('\n');
    case 'explicit':
      return ['-- First statement of the transaction, right after BEGIN:', 'BEGIN;', `${PERMIT};`, '-- ...', text(top), '-- ...', 'COMMIT;'].join('\n');
    case 'runner':
      return [`-- First statement of the migration (the runner wraps the file in one transaction; SET LOCAL lasts until it commits):`, `${PERMIT};`, '-- ...', text(top)].join('\n');
    default:
      return [`-- First statement of the file (it runs as one transaction block):`, `${PERMIT};`, '-- ...', text(top)].join('\n');
  }
}
