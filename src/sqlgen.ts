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
  return deparser(node, { pretty: false }).replace(/\s*\n\s*/g, ' ').trim();
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
