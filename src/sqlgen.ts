/**
 * SQL text for suggestions and fixes, from parse-tree nodes (pgsql-deparser, loaded on first use)
 * or from names. Output is valid PostgreSQL; it is not a copy of the user's formatting.
 */
import { AstValue, nodeType } from './ast';

let deparser: ((node: AstValue, opts?: { pretty?: boolean }) => string) | null = null;

/**
 * The deparser could not write SQL for a node: a tree shape it does not know (the grammar takes
 * more than it prints), or a tree nested deeper than its recursion can go. Callers that build a
 * suggestion catch it (or use `deparseOr`) and fall back to the statement as written.
 */
export class DeparseError extends Error {
  constructor(
    message: string,
    readonly node: AstValue,
  ) {
    super(message);
    this.name = 'DeparseError';
  }
}

/** SQL text of a node (a statement or an expression), on one line. Throws a DeparseError when it cannot. */
export function deparse(node: AstValue): string {
  if (!deparser) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require('pgsql-deparser') as { deparseSync: (node: AstValue, opts?: { pretty?: boolean }) => string };
    deparser = mod.deparseSync;
  }
  let sql: string;
  try {
    sql = deparser(forDeparser(node), { pretty: false });
  } catch (err) {
    const why = err instanceof RangeError ? 'it is nested too deeply' : err instanceof Error ? err.message.split('\n', 1)[0] : String(err);
    throw new DeparseError(`cannot write SQL for ${nodeType(node) || 'the node'}: ${why}`, node);
  }
  if (typeof sql !== 'string') throw new DeparseError(`cannot write SQL for ${nodeType(node) || 'the node'}`, node);
  return sql.replace(/\s*\n\s*/g, ' ').trim();
}

/**
 * SQL text of a node, or `fallback` (e.g. the statement as written, `writtenSql(stmt)`) when the
 * deparser cannot write it. A function is called only then.
 */
export function deparseOr(node: AstValue, fallback: string | (() => string)): string {
  const sql = tryDeparse(node);
  if (sql !== undefined) return sql;
  return typeof fallback === 'function' ? fallback() : fallback;
}

/** SQL text of a node, or undefined when the deparser cannot write it. */
export function tryDeparse(node: AstValue): string | undefined {
  try {
    return deparse(node);
  } catch (err) {
    if (err instanceof DeparseError) return undefined;
    throw err;
  }
}

/**
 * The node in the shape the deparser reads. It prints nothing for the table of `LIKE x` when the
 * parser gives that RangeVar bare (as libpg-query does), so it gets the { RangeVar } wrapper. The
 * node itself is not changed (parse results are shared); a copy is made only when needed.
 * (Explicit stacks, not recursion: trees can be thousands of levels deep.)
 */
function forDeparser(node: AstValue): AstValue {
  if (!someObject(node, (v) => 'TableLikeClause' in v)) return node;
  const copy = clone(node);
  someObject(copy, (v) => {
    const like = v.TableLikeClause;
    if (like?.relation && !like.relation.RangeVar) like.relation = { RangeVar: like.relation };
    return false;
  });
  return copy;
}

/** Visits every object (not array) under `root`, parents first, until `test` returns true. */
function someObject(root: AstValue, test: (v: Record<string, AstValue>) => boolean): boolean {
  const stack: AstValue[] = [root];
  while (stack.length > 0) {
    const v = stack.pop();
    if (!v || typeof v !== 'object') continue;
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push(v[i]);
      continue;
    }
    if (test(v)) return true;
    const keys = Object.keys(v);
    for (let i = keys.length - 1; i >= 0; i--) {
      const x = v[keys[i]];
      if (x && typeof x === 'object') stack.push(x);
    }
  }
  return false;
}

/** A deep copy of a node, to change before deparsing. */
export function clone<T>(node: T): T {
  try {
    return JSON.parse(JSON.stringify(node)) as T;
  } catch (err) {
    // Deeper than JSON.stringify's recursion: copy with an explicit stack.
    if (err instanceof RangeError) return deepCopy(node);
    throw err;
  }
}

/** clone without recursion (the same result as JSON.parse(JSON.stringify(node)) for parse trees). */
function deepCopy<T>(node: T): T {
  const copyOf = (v: AstValue): AstValue => (v && typeof v === 'object' ? (Array.isArray(v) ? new Array(v.length) : {}) : v);
  const root = copyOf(node);
  const stack: Array<[AstValue, AstValue]> = [[node, root]];
  while (stack.length > 0) {
    const [from, to] = stack.pop()!;
    if (Array.isArray(from)) {
      for (let i = 0; i < from.length; i++) {
        const v = from[i];
        const c = v === undefined || typeof v === 'function' ? null : copyOf(v);
        to[i] = c;
        if (c && typeof c === 'object') stack.push([v, c]);
      }
      continue;
    }
    for (const k of Object.keys(from)) {
      const v = from[k];
      if (v === undefined || typeof v === 'function') continue;
      const c = copyOf(v);
      to[k] = c;
      if (c && typeof c === 'object') stack.push([v, c]);
    }
  }
  return root as T;
}

/** Wraps SQL in a dollar quote whose tag does not occur in it. */
export function dollarQuote(sql: string, tag = 'ddl'): string {
  let t = tag;
  for (let i = 1; sql.includes(`$${t}$`); i++) t = `${tag}${i}`;
  return `$${t}$ ${sql} $${t}$`;
}
