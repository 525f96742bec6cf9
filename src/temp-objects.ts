/**
 * Temporary objects referenced by a statement: relations, sequences, types (and the row types of
 * temporary tables) and pg_temp functions that the migrations created as temporary (TEMP /
 * TEMPORARY, in schema pg_temp, ON COMMIT DROP). Unqualified names resolve in the temporary
 * schema first, as PostgreSQL does for relations and types. Used by no-temp-object-in-ddl.
 */
import * as pg from 'libpg-query';
import { AstValue, QualifiedName, listName, names } from './ast';
import type { Catalog, Origin, Sequence, Table } from './catalog';

export type TempKind = 'table' | 'view' | 'materialized view' | 'sequence' | 'type' | 'row type' | 'function' | 'relation';

export interface TempRef {
  kind: TempKind;
  /** schema.name as stored (schema is pg_temp, or the catalog's schema for implicit temp views). */
  q: QualifiedName;
  /** Catalog key of the object, when the migrations created it. */
  key?: string;
  /** AST location of the reference in the statement's parsed text. */
  location?: number;
  /** Set for a view PostgreSQL made temporary because its query reads a temporary object. */
  implicit?: { line: number; because: string };
}

export interface TempLookup {
  catalog: Catalog;
  /** Views PostgreSQL made temporary implicitly (catalog key -> why, and in which file's session). */
  implicitTemp: Map<string, { line: number; because: string; fileIndex: number }>;
  /**
   * The file being linted: temporary objects of other files belong to other sessions (one
   * session per file) and no longer exist.
   */
  fileIndex: number;
}

const isTempSchema = (s: string | undefined): boolean => !!s && (s === 'pg_temp' || s.startsWith('pg_temp_'));

type Found =
  | { what: 'table'; t: Table }
  | { what: 'sequence'; t: Sequence };

/** The schemas an unqualified relation or type name is looked up in: pg_temp first. */
function schemasFor(look: TempLookup, q: QualifiedName): string[] {
  if (q.schema) return [isTempSchema(q.schema) ? 'pg_temp' : q.schema];
  return ['pg_temp', ...look.catalog.searchPath.filter((x) => x !== 'pg_temp')];
}

/** Whether a catalog object exists in this session (temporary objects of other files do not). */
function alive(look: TempLookup, schema: string, origin: Origin): boolean {
  return !isTempSchema(schema) || origin.fileIndex === look.fileIndex;
}

/** Resolves a relation name (table, view, sequence) the way PostgreSQL does. */
function findRelation(look: TempLookup, q: QualifiedName): Found | undefined {
  const { catalog } = look;
  for (const schema of schemasFor(look, q)) {
    const t = catalog.tables.get(`${schema}.${q.name}`);
    if (t && alive(look, schema, t.origin)) return { what: 'table', t };
    const sq = catalog.sequences.get(`${schema}.${q.name}`);
    if (sq && alive(look, schema, sq.origin)) return { what: 'sequence', t: sq };
  }
  return undefined;
}

/** A relation name in a RangeVar-shaped object, if it resolves to a temporary relation. */
export function tempRelation(look: TempLookup, rv: AstValue): TempRef | undefined {
  if (!rv || typeof rv.relname !== 'string') return undefined;
  const q: QualifiedName = { schema: rv.schemaname || undefined, name: rv.relname };
  return tempRelationByName(look, q, rv.location);
}

export function tempRelationByName(look: TempLookup, q: QualifiedName, location?: number): TempRef | undefined {
  const found = findRelation(look, q);
  if (found?.what === 'table') {
    const t = found.t;
    const key = `${t.schema}.${t.name}`;
    const kind: TempKind = t.kind === 'view' ? 'view' : t.kind === 'matview' ? 'materialized view' : 'table';
    if (t.persistence === 'temp' || isTempSchema(t.schema)) return { kind, q: { schema: t.schema, name: t.name }, key, location };
    const implicit = look.implicitTemp.get(key);
    if (implicit && implicit.fileIndex === look.fileIndex) return { kind, q: { schema: t.schema, name: t.name }, key, location, implicit };
    return undefined;
  }
  if (found?.what === 'sequence') {
    const sq = found.t;
    if (sq.persistence === 'temp' || isTempSchema(sq.schema)) return { kind: 'sequence', q: { schema: sq.schema, name: sq.name }, key: `${sq.schema}.${sq.name}`, location };
    return undefined;
  }
  // Explicitly in the temporary schema: temporary, even if the migrations never created it.
  if (isTempSchema(q.schema)) return { kind: 'relation', q: { schema: 'pg_temp', name: q.name }, location };
  return undefined;
}

/** A TypeName-shaped object, if it names a temporary type or the row type of a temporary table. */
export function tempType(look: TempLookup, tn: AstValue): TempRef | undefined {
  const parts = names(tn?.names);
  if (parts.length === 0 || parts[0] === 'pg_catalog') return undefined;
  const q = listName(tn.names);
  const { catalog } = look;
  for (const schema of schemasFor(look, q)) {
    // In each schema: its types, then its tables' row types (types and relations share pg_type).
    const ty = catalog.types.get(`${schema}.${q.name}`);
    if (ty && alive(look, schema, ty.origin)) {
      return isTempSchema(schema) ? { kind: 'type', q: { schema: 'pg_temp', name: ty.name }, key: `pg_temp.${ty.name}`, location: tn.location } : undefined;
    }
    const t = catalog.tables.get(`${schema}.${q.name}`);
    if (t && alive(look, schema, t.origin)) {
      const rel = tempRelationByName(look, { schema, name: q.name }, tn.location);
      return rel ? { ...rel, kind: 'row type' } : undefined;
    }
  }
  if (isTempSchema(q.schema)) return { kind: 'type', q: { schema: 'pg_temp', name: q.name }, location: tn.location };
  return undefined;
}

/** Splits the text of a regclass literal ('app.seq', '"My Seq"') into a name, as PostgreSQL reads it. */
export function regclassName(text: string): QualifiedName | undefined {
  const parts: string[] = [];
  let i = 0;
  const s = text.trim();
  while (i <= s.length) {
    let part = '';
    if (s[i] === '"') {
      i++;
      for (;;) {
        if (i >= s.length) return undefined;
        if (s[i] === '"') {
          if (s[i + 1] === '"') {
            part += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        part += s[i++];
      }
    } else {
      while (i < s.length && s[i] !== '.') part += s[i++];
      part = part.trim().toLowerCase();
      if (part === '') return undefined;
    }
    parts.push(part);
    if (i >= s.length) break;
    if (s[i] !== '.') return undefined;
    i++;
  }
  if (parts.length === 0 || parts.length > 3) return undefined;
  const name = parts[parts.length - 1];
  const schema = parts.length > 1 ? parts[parts.length - 2] : undefined;
  return { schema, name };
}

const SEQUENCE_FUNCS = new Set(['nextval', 'currval', 'setval']);

/**
 * Every temporary object a parse tree refers to. `skip` holds objects (by identity) not to
 * count, such as the statement's own target; `localNames` are unqualified relation names that
 * mean something else there (CTEs, temporary tables a function body creates for itself).
 */
export function tempReferences(look: TempLookup, roots: AstValue[], skip: Set<object> = new Set(), localNames: Set<string> = new Set()): TempRef[] {
  const out: TempRef[] = [];
  const ctes = new Set(localNames);
  // Explicit stacks, not recursion: an expression can be nested thousands of levels deep.
  const pending: AstValue[] = [...roots];
  while (pending.length > 0) {
    const v = pending.pop();
    if (!v || typeof v !== 'object') continue;
    if (Array.isArray(v)) {
      for (const x of v) pending.push(x);
      continue;
    }
    if (v.CommonTableExpr && typeof v.CommonTableExpr.ctename === 'string') ctes.add(v.CommonTableExpr.ctename);
    for (const k in v) {
      const x = v[k];
      if (x && typeof x === 'object') pending.push(x);
    }
  }

  const seen = new Set<string>();
  const add = (r: TempRef | undefined): void => {
    if (!r) return;
    const id = `${r.kind}:${r.q.schema ?? ''}.${r.q.name}`;
    if (seen.has(id)) return;
    seen.add(id);
    out.push(r);
  };

  // Parents first, children in order (as a recursive walk): the first reference found is kept.
  const stack: AstValue[] = [];
  for (let i = roots.length - 1; i >= 0; i--) stack.push(roots[i]);
  while (stack.length > 0) {
    const v = stack.pop();
    if (!v || typeof v !== 'object' || skip.has(v)) continue;
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push(v[i]);
      continue;
    }
    if (typeof v.relname === 'string') {
      // A RangeVar (wrapped or not): a table, view or sequence.
      if (!(v.schemaname === undefined && ctes.has(v.relname))) add(tempRelation(look, v));
      continue;
    }
    if (Array.isArray(v.names) && 'typemod' in v) {
      add(tempType(look, v));
    }
    if (v.FuncCall) {
      const fn = names(v.FuncCall.funcname);
      if (fn.length > 1 && isTempSchema(fn[0])) add({ kind: 'function', q: { schema: 'pg_temp', name: fn[fn.length - 1] }, location: v.FuncCall.location });
      const base = fn[fn.length - 1];
      if (SEQUENCE_FUNCS.has(base) && (fn.length === 1 || fn[0] === 'pg_catalog')) {
        const lit = literalText(v.FuncCall.args?.[0]);
        const q = lit !== undefined ? regclassName(lit) : undefined;
        if (q) add(tempRelationByName(look, q, v.FuncCall.location));
      }
    }
    if (v.TypeCast) {
      const tn = v.TypeCast.typeName;
      const tname = names(tn?.names);
      if (tname[tname.length - 1] === 'regclass') {
        const lit = literalText(v.TypeCast.arg);
        const q = lit !== undefined ? regclassName(lit) : undefined;
        if (q) add(tempRelationByName(look, q, v.TypeCast.location));
      }
    }
    const keys = Object.keys(v);
    for (let i = keys.length - 1; i >= 0; i--) {
      const x = v[keys[i]];
      if (x && typeof x === 'object') stack.push(x);
    }
  }
  return out;
}

function literalText(node: AstValue): string | undefined {
  let n = node;
  while (n?.TypeCast) n = n.TypeCast.arg;
  if (n?.A_Const?.sval) return n.A_Const.sval.sval ?? '';
  return undefined;
}

/**
 * The parse trees of every SQL expression and statement in the PL/pgSQL body of a CREATE
 * FUNCTION / PROCEDURE statement or DO block (conditions, assignments, RETURN expressions,
 * loops, static SQL), for finding what the body refers to. Parts that do not parse are left out.
 */
export function plpgsqlQueries(createFunctionSql: string): AstValue[] {
  let tree: AstValue;
  try {
    tree = pg.parsePlPgSQLSync(createFunctionSql);
  } catch {
    return [];
  }
  const out: AstValue[] = [];
  const parse = (sql: string): void => {
    try {
      for (const s of pg.parseSync(sql).stmts ?? []) out.push(s.stmt);
    } catch {
      /* not SQL we can read */
    }
  };
  // (key, value) pairs, in the order of a recursive walk, on an explicit stack: bodies nest deeply.
  const stack: Array<[string | undefined, AstValue]> = [[undefined, tree]];
  while (stack.length > 0) {
    const [k, v] = stack.pop()!;
    if (k === 'PLpgSQL_expr' && v && typeof v.query === 'string') {
      const mode = v.parseMode ?? 0;
      if (mode === 0) parse(v.query);
      else if (mode === 2) parse(`SELECT ${v.query}`);
      else {
        // Assignment "target := expr": the expression starts after the first top-level := or =.
        const rhs = afterAssignment(v.query);
        if (rhs !== undefined) parse(`SELECT ${rhs}`);
      }
    }
    if (!v || typeof v !== 'object') continue;
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push([undefined, v[i]]);
      continue;
    }
    const keys = Object.keys(v);
    for (let i = keys.length - 1; i >= 0; i--) stack.push([keys[i], v[keys[i]]]);
  }
  return out;
}

const bodyQueries = new WeakMap<object, AstValue[]>();

/**
 * plpgsqlQueries of a CREATE FUNCTION / PROCEDURE node, deparsed (an empty list when it cannot be
 * deparsed). Several rules ask for the same function: the answer is kept per node. Read-only.
 */
export function plpgsqlQueriesOfNode(node: AstValue): AstValue[] {
  let out = bodyQueries.get(node);
  if (!out && !hasBody(node)) {
    // No AS '...' body (a grammar-valid CREATE FUNCTION that PostgreSQL rejects later): the
    // PL/pgSQL parser would abort on it (an assertion in libpg-query), so it is not asked.
    out = [];
    bodyQueries.set(node, out);
  }
  if (!out) {
    let sql: string | undefined;
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { deparseSync } = require('pgsql-deparser') as { deparseSync: (n: AstValue, o?: { pretty?: boolean }) => string };
      sql = deparseSync(node, { pretty: false });
    } catch {
      sql = undefined;
    }
    out = sql === undefined ? [] : plpgsqlQueries(sql);
    bodyQueries.set(node, out);
  }
  return out;
}

/** A CREATE FUNCTION / PROCEDURE node with an AS body. */
function hasBody(node: AstValue): boolean {
  const f = node?.CreateFunctionStmt;
  return !!f && (f.options ?? []).some((o: AstValue) => o?.DefElem?.defname === 'as');
}

function afterAssignment(text: string): string | undefined {
  let tokens: pg.ScanToken[];
  try {
    tokens = pg.scanSync(text).tokens;
  } catch {
    return undefined;
  }
  let depth = 0;
  for (const t of tokens) {
    if (t.text === '(' || t.text === '[') depth++;
    else if (t.text === ')' || t.text === ']') depth--;
    else if (depth === 0 && (t.text === ':=' || t.text === '=')) return Buffer.from(text, 'utf8').subarray(t.end).toString('utf8');
  }
  return undefined;
}
