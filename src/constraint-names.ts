/**
 * PostgreSQL's default names for constraints and their indexes, as the server would choose them
 * (src/backend/commands/indexcmds.c makeObjectName / ChooseRelationName, catalog/pg_constraint.c
 * ChooseConstraintName, commands/tablecmds.c ChooseForeignKeyConstraintNameAddition,
 * catalog/heap.c AddRelationNewConstraints). Rules that rewrite an unnamed constraint into
 * `ADD CONSTRAINT <name> … NOT VALID` + `VALIDATE CONSTRAINT <name>` write this name explicitly.
 */
import { AstValue, fields, names, walk } from './ast';
import type { Catalog, Table } from './catalog';

/** NAMEDATALEN - 1: the longest identifier PostgreSQL keeps, in bytes. */
const MAX_IDENT_BYTES = 63;

function byteLength(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/** The longest prefix of `s` that fits in `bytes` bytes without splitting a character (pg_mbcliplen). */
function clipBytes(s: string, bytes: number): string {
  let out = '';
  let used = 0;
  for (const ch of s) {
    const n = byteLength(ch);
    if (used + n > bytes) break;
    out += ch;
    used += n;
  }
  return out;
}

/**
 * makeObjectName(name1, name2, label): "name1_name2_label", the longer of name1/name2 clipped
 * until the whole fits in 63 bytes.
 */
export function makeObjectName(name1: string, name2: string | undefined, label: string | undefined): string {
  let overhead = 0;
  if (name2) overhead += 1;
  if (label) overhead += byteLength(label) + 1;
  const avail = MAX_IDENT_BYTES - overhead;
  let n1 = byteLength(name1);
  let n2 = name2 ? byteLength(name2) : 0;
  while (n1 + n2 > avail) {
    if (n1 > n2) n1--;
    else n2--;
  }
  let out = clipBytes(name1, n1);
  if (name2) out += `_${clipBytes(name2, n2)}`;
  if (label) out += `_${label}`;
  return out;
}

/** Joins column names with "_" as ChooseForeignKeyConstraintNameAddition / ChooseIndexNameAddition do. */
export function nameAddition(columns: string[]): string {
  let buf = '';
  for (const c of columns) {
    if (buf !== '') buf += '_';
    buf += c;
    if (byteLength(buf) >= 64) break;
  }
  return clipBytes(buf, MAX_IDENT_BYTES);
}

/** Picks `name1_name2_label`, then `…_label1`, `…_label2`, … until `taken` does not have it. */
export function chooseName(name1: string, name2: string | undefined, label: string, taken: (n: string) => boolean): string {
  let mod = label;
  for (let pass = 1; ; pass++) {
    const n = makeObjectName(name1, name2, mod);
    if (!taken(n)) return n;
    mod = `${label}${pass}`;
  }
}

/** The distinct column names an expression refers to (the Vars of a CHECK expression). */
export function referencedColumns(expr: AstValue): string[] {
  const out: string[] = [];
  walk(expr, (type, value) => {
    if (type === 'ColumnRef') {
      const parts = (value.fields ?? []) as AstValue[];
      const last = parts[parts.length - 1];
      const n = last && last.String ? (last.String.sval as string) : undefined;
      if (n !== undefined && !out.includes(n)) out.push(n);
      return false;
    }
    return undefined;
  });
  return out;
}

/** Constraint names already used in a schema, as far as the catalog knows them. */
export function constraintNamesIn(catalog: Catalog, schema: string | undefined): Set<string> {
  const out = new Set<string>();
  for (const t of catalog.tables.values()) {
    if (schema !== undefined && t.schema !== schema) continue;
    for (const n of t.constraints.keys()) out.add(n);
  }
  return out;
}

/** Relation names (tables, indexes, sequences) already used in a schema, as far as the catalog knows them. */
export function relationNamesIn(catalog: Catalog, schema: string | undefined): Set<string> {
  const out = new Set<string>();
  const add = (s: string, n: string): void => {
    if (schema === undefined || s === schema) out.add(n);
  };
  for (const t of catalog.tables.values()) add(t.schema, t.name);
  for (const i of catalog.indexes.values()) add(i.schema, i.name);
  for (const s of catalog.sequences.values()) add(s.schema, s.name);
  return out;
}

/**
 * The name PostgreSQL gives an unnamed CHECK or FOREIGN KEY constraint added to `tableName`:
 * `<table>_<col>_check` (one referenced column) or `<table>_check`; `<table>_<cols>_fkey`.
 * `column` is the column a column-level constraint is written on.
 */
export function defaultConstraintName(
  tableName: string,
  constraint: AstValue,
  taken: (n: string) => boolean,
  column?: string,
): string {
  const c = constraint;
  if (c.contype === 'CONSTR_FOREIGN') {
    const cols = names(c.fk_attrs);
    const addition = nameAddition(cols.length > 0 ? cols : column ? [column] : []);
    return chooseName(tableName, addition || undefined, 'fkey', taken);
  }
  if (c.contype === 'CONSTR_CHECK') {
    const vars = referencedColumns(c.raw_expr);
    return chooseName(tableName, vars.length === 1 ? vars[0] : undefined, 'check', taken);
  }
  if (c.contype === 'CONSTR_PRIMARY') return chooseName(tableName, undefined, 'pkey', taken);
  if (c.contype === 'CONSTR_UNIQUE') {
    const cols = names(c.keys);
    const addition = nameAddition(cols.length > 0 ? cols : column ? [column] : []);
    return chooseName(tableName, addition || undefined, 'key', taken);
  }
  return chooseName(tableName, column, 'con', taken);
}

/** A name-taken test over the catalog's constraints of the table's schema plus names picked so far. */
export function constraintNameTaken(catalog: Catalog, table: Table | undefined, schema: string | undefined, picked: Set<string>): (n: string) => boolean {
  // Built on the first question only: most statements never ask, and the catalog may be large.
  let known: Set<string> | undefined;
  return (n) => {
    if (!known) {
      known = constraintNamesIn(catalog, table ? table.schema : schema);
      if (table) for (const c of table.constraints.keys()) known.add(c);
    }
    return known.has(n) || picked.has(n);
  };
}

/** A name-taken test over the catalog's relations of the table's schema plus names picked so far. */
export function relationNameTaken(catalog: Catalog, table: Table | undefined, schema: string | undefined, picked: Set<string>): (n: string) => boolean {
  let known: Set<string> | undefined;
  return (n) => (known ??= relationNamesIn(catalog, table ? table.schema : schema)).has(n) || picked.has(n);
}

/** The node's fields when it is a Constraint, else undefined. */
export function constraintOf(node: AstValue): AstValue | undefined {
  return node && typeof node === 'object' && 'Constraint' in node ? fields(node) : undefined;
}
