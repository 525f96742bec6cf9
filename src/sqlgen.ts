/**
 * SQL text for suggestions and fixes, from parse-tree nodes (pgsql-deparser, loaded on first use)
 * or from names. Output is valid PostgreSQL; it is not a copy of the user's formatting.
 */
import type { AstValue } from './ast';

let deparser: ((node: AstValue, opts?: { pretty?: boolean }) => string) | null = null;

/** SQL text of a node (a statement or an expression), on one line. */
export function deparse(node: AstValue): string {
  if (!deparser) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require('pgsql-deparser') as { deparseSync: (node: AstValue, opts?: { pretty?: boolean }) => string };
    deparser = mod.deparseSync;
  }
  return deparser(forDeparser(node), { pretty: false }).replace(/\s*\n\s*/g, ' ').trim();
}

/**
 * The node in the shape the deparser reads. It prints nothing for the table of `LIKE x` when the
 * parser gives that RangeVar bare (as libpg-query does), so it gets the { RangeVar } wrapper. The
 * node itself is not changed (parse results are shared); a copy is made only when needed.
 */
function forDeparser(node: AstValue): AstValue {
  if (!JSON.stringify(node).includes('"TableLikeClause"')) return node;
  const copy = clone(node);
  const visit = (v: AstValue): void => {
    if (!v || typeof v !== 'object') return;
    if (Array.isArray(v)) {
      v.forEach(visit);
      return;
    }
    const like = v.TableLikeClause;
    if (like?.relation && !like.relation.RangeVar) like.relation = { RangeVar: like.relation };
    for (const k of Object.keys(v)) visit(v[k]);
  };
  visit(copy);
  return copy;
}

/** A deep copy of a node, to change before deparsing. */
export function clone<T>(node: T): T {
  return JSON.parse(JSON.stringify(node)) as T;
}

/** Wraps SQL in a dollar quote whose tag does not occur in it. */
export function dollarQuote(sql: string, tag = 'ddl'): string {
  let t = tag;
  for (let i = 1; sql.includes(`$${t}$`); i++) t = `${tag}${i}`;
  return `$${t}$ ${sql} $${t}$`;
}
