/**
 * Small helpers over libpg-query's JSON parse tree. A node is an object with one key, its type:
 * `{ "IndexStmt": { ... } }`. Helpers here never throw on unexpected shapes.
 */
import { QuoteUtils } from 'pgsql-deparser';

export type AstNode = Record<string, any>;
export type AstValue = any;

/** The node's type name, e.g. "IndexStmt". */
export function nodeType(node: AstNode | null | undefined): string {
  if (!node || typeof node !== 'object') return '';
  for (const k in node) return k;
  return '';
}

/** The node's fields (the value under its type key). */
export function fields(node: AstNode | null | undefined): AstValue {
  if (!node || typeof node !== 'object') return {};
  for (const k in node) return node[k] ?? {};
  return {};
}

/** The inner value when the node has the given type, else undefined. */
export function as(node: AstNode | null | undefined, type: string): AstValue | undefined {
  return node && typeof node === 'object' && type in node ? node[type] : undefined;
}

/** The string of a String / Integer / Float / Boolean node or a bare value. */
export function strVal(node: AstValue): string | undefined {
  if (node == null) return undefined;
  if (typeof node === 'string') return node;
  if (typeof node === 'number' || typeof node === 'boolean') return String(node);
  if (node.String) return node.String.sval ?? '';
  if (node.Integer) return String(node.Integer.ival ?? 0);
  if (node.Float) return node.Float.fval;
  if (node.Boolean) return String(!!node.Boolean.boolval);
  if (node.TypeName) return typeNameString(node.TypeName);
  if (node.A_Const) return constString(node.A_Const);
  return undefined;
}

/** The value of an A_Const as a string (true/false for booleans, undefined for NULL). */
export function constString(c: AstValue): string | undefined {
  if (!c || c.isnull) return undefined;
  if (c.sval) return c.sval.sval ?? '';
  if (c.ival) return String(c.ival.ival ?? 0);
  if (c.fval) return c.fval.fval;
  if (c.boolval) return String(!!c.boolval.boolval);
  if (c.bsval) return c.bsval.bsval;
  return undefined;
}

/** Names of a list of String nodes. */
export function names(list: AstValue[] | undefined): string[] {
  return (list ?? []).map((n) => strVal(n) ?? '');
}

export interface QualifiedName {
  schema?: string;
  name: string;
}

/** The (schema, name) of a RangeVar. */
export function rangeVarName(rv: AstValue): QualifiedName {
  return { schema: rv?.schemaname || undefined, name: rv?.relname ?? '' };
}

/** The (schema, name) of a list of String nodes (["public", "t"] or ["t"]). */
export function listName(list: AstValue[] | undefined): QualifiedName {
  const parts = names(list);
  if (parts.length === 0) return { name: '' };
  const name = parts[parts.length - 1];
  const schema = parts.length > 1 ? parts[parts.length - 2] : undefined;
  return { schema, name };
}

/** A TypeName as written in SQL, normalised to PostgreSQL's internal name (int4, varchar, ...). */
export function typeNameString(t: AstValue): string {
  const parts = names(t?.names).filter((p) => p !== 'pg_catalog');
  return parts.join('.');
}

/** Type modifiers of a TypeName as numbers (e.g. varchar(20) -> [20], numeric(10,2) -> [10, 2]). */
export function typeMods(t: AstValue): number[] | undefined {
  if (!t?.typmods) return undefined;
  const out: number[] = [];
  for (const m of t.typmods) {
    const v = strVal(m);
    const n = v === undefined ? NaN : Number(v);
    if (Number.isNaN(n)) return undefined;
    out.push(n);
  }
  return out;
}

/** Quotes an identifier when PostgreSQL needs it quoted. */
export function quoteIdent(name: string): string {
  return QuoteUtils.quoteIdentifier(name);
}

/** schema.name with quoting where needed. */
export function formatName(q: QualifiedName): string {
  return q.schema ? `${quoteIdent(q.schema)}.${quoteIdent(q.name)}` : quoteIdent(q.name);
}

/** A SQL string literal. */
export function quoteLiteral(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/**
 * Visits every node below (and including) `root`: `visit(type, fields, node)`. Returning false
 * from the visitor skips that node's children.
 */
export function walk(root: AstValue, visit: (type: string, value: AstValue, node: AstNode) => boolean | void): void {
  const stack: AstValue[] = [root];
  while (stack.length > 0) {
    const cur = stack.pop();
    if (cur == null || typeof cur !== 'object') continue;
    if (Array.isArray(cur)) {
      for (let i = cur.length - 1; i >= 0; i--) stack.push(cur[i]);
      continue;
    }
    const keys = Object.keys(cur);
    if (keys.length === 1 && /^[A-Z]/.test(keys[0])) {
      const type = keys[0];
      const value = cur[type];
      if (visit(type, value, cur) === false) continue;
      if (value && typeof value === 'object') stack.push(value);
      continue;
    }
    for (let i = keys.length - 1; i >= 0; i--) {
      const v = cur[keys[i]];
      if (v && typeof v === 'object') stack.push(v);
    }
  }
}

/** The smallest `location` found in a subtree (byte offset in the parsed text), if any. */
export function firstLocation(root: AstValue): number | undefined {
  let best: number | undefined;
  const stack: AstValue[] = [root];
  while (stack.length > 0) {
    const cur = stack.pop();
    if (cur == null || typeof cur !== 'object') continue;
    if (Array.isArray(cur)) {
      stack.push(...cur);
      continue;
    }
    for (const k of Object.keys(cur)) {
      const v = cur[k];
      if (k === 'location' && typeof v === 'number' && v >= 0) {
        if (best === undefined || v < best) best = v;
      } else if (v && typeof v === 'object') stack.push(v);
    }
  }
  return best;
}
