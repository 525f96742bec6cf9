/**
 * Phrases shared by rule messages: how to name objects and where a statement runs.
 */
import { QualifiedName, formatName } from './ast';
import type { Stmt } from './model';

/** `"orders"` or `"app"."orders"` as the user wrote it (quoted for messages). */
export function shown(q: QualifiedName): string {
  return q.schema ? `"${q.schema}"."${q.name}"` : `"${q.name}"`;
}

/** SQL spelling of a name, quoted where PostgreSQL needs it. */
export function sqlName(q: QualifiedName): string {
  return formatName(q);
}

/** Where the statement sits, for messages: "inside BEGIN ... COMMIT", "in the runner's transaction", ... */
export function whereRuns(stmt: Stmt): string {
  if (stmt.via === 'do') return 'inside a DO block';
  switch (stmt.tx.kind) {
    case 'explicit':
      return 'inside a BEGIN ... COMMIT block';
    case 'runner':
      return "inside the transaction the migration runner wraps around the file";
    case 'implicit':
      return 'inside the implicit transaction of a multi-statement query';
    case 'remote':
      return 'through bdr.run_on_*';
    default:
      return 'on its own';
  }
}
