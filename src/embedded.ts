/**
 * SQL inside other SQL: the string arguments of the BDR/PGD functions that run or replicate DDL,
 * and the static SQL of DO blocks and function bodies (through the PL/pgSQL parser).
 * Every embedded statement maps its parser offsets back to the true place in the outer file.
 */
import * as pg from 'libpg-query';
import { AstValue, as, fields, names, nodeType, walk } from './ast';
import { parseSql } from './parser';
import { SourceText } from './source';

export type EmbedKind =
  | 'run_on_all_nodes'
  | 'run_on_nodes'
  | 'run_on_group'
  | 'replicate_ddl_command'
  | 'bdr_replicate_ddl_command'
  | 'do'
  | 'function';

/** Maps a UTF-8 byte offset in an embedded text to a string index in the file. */
export type ByteMap = (byte: number) => number;

export interface EmbeddedStatement {
  via: EmbedKind;
  node?: AstValue;
  error?: { message: string; index: number };
  start: number;
  end: number;
  map: ByteMap;
}

const CALLS: Record<string, EmbedKind> = {
  run_on_all_nodes: 'run_on_all_nodes',
  run_on_nodes: 'run_on_nodes',
  run_on_group: 'run_on_group',
  replicate_ddl_command: 'replicate_ddl_command',
  bdr_replicate_ddl_command: 'bdr_replicate_ddl_command',
};

/** Any of the CALLS names in a text, in any case (they may also be written as quoted identifiers). */
const CALL_NAMES = /run_on_(all_nodes|nodes|group)|replicate_ddl_command/i;

/**
 * Decodes the SQL string literal that starts at `index` of `text` ('...', E'...', $$...$$ or
 * $tag$...$tag$). Returns its value and, for each character of the value, its index in `text`.
 */
export function decodeLiteral(text: string, index: number): { value: string; indexOf: (vi: number) => number; end: number } | undefined {
  let i = index;
  let escapes = false;
  if (text[i] === 'E' || text[i] === 'e') {
    escapes = true;
    i++;
  }
  if (text[i] === '$') {
    const close = text.indexOf('$', i + 1);
    if (close === -1) return undefined;
    const tag = text.slice(i, close + 1);
    const contentStart = close + 1;
    const end = text.indexOf(tag, contentStart);
    if (end === -1) return undefined;
    return { value: text.slice(contentStart, end), indexOf: (vi) => contentStart + vi, end: end + tag.length };
  }
  if (text[i] !== "'") return undefined;
  // '' is one quote; with E, a backslash escapes the next character.
  const valueIdx: number[] = [];
  let value = '';
  let k = i + 1;
  while (k < text.length) {
    const c = text[k];
    if (c === "'") {
      if (text[k + 1] !== "'") break;
      valueIdx.push(k);
      value += "'";
      k += 2;
    } else if (escapes && c === '\\' && k + 1 < text.length) {
      const n = text[k + 1];
      valueIdx.push(k);
      value += ESCAPES[n] ?? n;
      k += 2;
    } else {
      valueIdx.push(k);
      value += c;
      k++;
    }
  }
  // `end`: just after the closing quote (the text's length when the literal is not closed).
  return { value, indexOf: (vi) => (vi < valueIdx.length ? valueIdx[vi] : k), end: Math.min(k + 1, text.length) };
}

const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', b: '\b', f: '\f' };

/** A byte map for a value decoded from `text`, whose indices are turned into file indices by `toFile`. */
function byteMapOf(value: string, indexOf: (vi: number) => number, toFile: (i: number) => number): ByteMap {
  if (Buffer.byteLength(value) === value.length) return (b) => toFile(indexOf(Math.max(0, b)));
  const buf = Buffer.from(value, 'utf8');
  return (b) => toFile(indexOf(buf.subarray(0, Math.max(0, Math.min(b, buf.length))).toString('utf8').length));
}

/** The literal of the file at a string index, with its byte map. */
export function literalAt(source: SourceText, index: number): { value: string; map: ByteMap } | undefined {
  const lit = decodeLiteral(source.text, index);
  if (!lit) return undefined;
  return { value: lit.value, map: byteMapOf(lit.value, lit.indexOf, (i) => i) };
}

/** Parses SQL found in a string, as statements mapped into the file. */
function parseEmbedded(value: string, map: ByteMap, via: EmbedKind): EmbeddedStatement[] {
  if (value.trim() === '') return [];
  const parsed = parseSql(value);
  if (!('stmts' in parsed)) {
    const at = map(parsed.byte);
    return [{ via, error: { message: parsed.message, index: at }, start: map(0), end: map(Buffer.byteLength(value)), map }];
  }
  const total = Buffer.byteLength(value);
  return parsed.stmts.map((raw) => {
    const loc = raw.stmt_location ?? 0;
    const len = raw.stmt_len || total - loc;
    return { via, node: raw.stmt, start: map(loc), end: map(loc + len), map };
  });
}

/**
 * Statements embedded in one parsed statement: calls of the BDR functions that take SQL text,
 * a DO block's body, or a PL/pgSQL / SQL function body.
 * @param byteToIndex maps a byte offset in the statement's parsed text to a file index.
 */
export function embeddedIn(node: AstValue, source: SourceText, byteToIndex: ByteMap, text?: string): EmbeddedStatement[] {
  const type = nodeType(node);
  const out: EmbeddedStatement[] = [];
  if (type === 'DoStmt') {
    const f = fields(node);
    let lang = 'plpgsql';
    let bodyNode: AstValue;
    for (const a of f.args ?? []) {
      const d = fields(a);
      if (d.defname === 'language') lang = String(fields(d.arg).sval ?? lang);
      if (d.defname === 'as') bodyNode = d;
    }
    if (lang !== 'plpgsql' || !bodyNode) return out;
    const lit = literalAt(source, byteToIndex(bodyNode.location ?? 0));
    if (lit) out.push(...plpgsqlStatements(lit.value, lit.map, 'do', source));
    return out;
  }
  if (type === 'CreateFunctionStmt') {
    const f = fields(node);
    let lang = 'sql';
    let asNode: AstValue;
    for (const o of f.options ?? []) {
      const d = fields(o);
      if (d.defname === 'language') lang = String(fields(d.arg).sval ?? lang);
      if (d.defname === 'as') asNode = d;
    }
    if (!asNode) return out;
    const items = fields(asNode.arg).items ?? [];
    if (items.length !== 1) return out;
    const lit = literalAt(source, byteToIndex(asNode.location ?? 0) + afterAs(source, byteToIndex(asNode.location ?? 0)));
    if (!lit) return out;
    if (lang === 'plpgsql') out.push(...plpgsqlStatements(lit.value, lit.map, 'function', source));
    else if (lang === 'sql') out.push(...parseEmbedded(lit.value, lit.map, 'function'));
    return out;
  }
  // Calls anywhere in the statement: SELECT bdr.run_on_all_nodes('...'), CALL, PERFORM ... A
  // statement whose text (when given) names none of the functions has none: no walk of its tree.
  if (text !== undefined && !CALL_NAMES.test(text)) return out;
  walk(node, (t, v) => {
    if (t !== 'FuncCall') return;
    const fname = names(v.funcname);
    const name = fname[fname.length - 1];
    const via = CALLS[name];
    if (!via || (fname.length > 1 && fname[0] !== 'bdr')) return;
    const arg = v.args?.[0];
    const c = as(arg, 'A_Const');
    if (!c?.sval || typeof c.location !== 'number') return;
    const lit = literalAt(source, byteToIndex(c.location));
    if (!lit) return;
    out.push(...parseEmbedded(lit.value, lit.map, via));
    return false;
  });
  return out;
}

/** DefElem `AS` location points at the keyword: skip to the literal. */
function afterAs(source: SourceText, index: number): number {
  const text = source.text;
  let i = index;
  if (/^as\b/i.test(text.slice(i, i + 3))) i += 2;
  while (i < text.length && /\s/.test(text[i])) i++;
  return i - index;
}

/** Static SQL statements of a PL/pgSQL body (EXECUTE of a constant string included). */
function plpgsqlStatements(body: string, map: ByteMap, via: EmbedKind, source: SourceText): EmbeddedStatement[] {
  let tree: AstValue;
  try {
    tree = pg.parsePlPgSQLSync(`DO $pgdlint$${body}$pgdlint$`);
  } catch {
    return [];
  }
  void source;
  const lines: number[] = [0];
  for (let i = body.indexOf('\n'); i !== -1; i = body.indexOf('\n', i + 1)) lines.push(i + 1);
  const bodyBytes = Buffer.from(body, 'utf8');
  const out: EmbeddedStatement[] = [];
  const found: Array<{ lineno: number; query: string; dynamic?: boolean }> = [];
  const visit = (v: AstValue): void => {
    if (v == null || typeof v !== 'object') return;
    if (Array.isArray(v)) {
      v.forEach(visit);
      return;
    }
    for (const k of Object.keys(v)) {
      const inner = v[k];
      if (k === 'PLpgSQL_stmt_execsql' && inner.sqlstmt) {
        found.push({ lineno: inner.lineno, query: fields(inner.sqlstmt).query });
      } else if (k === 'PLpgSQL_stmt_perform' && inner.expr) {
        found.push({ lineno: inner.lineno, query: fields(inner.expr).query });
      } else if (k === 'PLpgSQL_stmt_dynexecute' && inner.query) {
        found.push({ lineno: inner.lineno, query: fields(inner.query).query, dynamic: true });
      }
      visit(inner);
    }
  };
  visit(tree);
  let searchFrom = 0;
  for (const { lineno, query, dynamic } of found) {
    if (typeof query !== 'string') continue;
    let sql = query;
    let offset = 0; // offset of `sql` within the located text
    let locate = query;
    if (query.startsWith('SELECT ') && !body.includes(query)) {
      // PERFORM expr is stored as "SELECT expr".
      locate = query.slice(7);
      sql = query;
      offset = -7;
    }
    const lineStart = lines[Math.max(0, Math.min((lineno ?? 1) - 1, lines.length - 1))];
    let at = body.indexOf(locate, Math.max(lineStart, 0));
    if (at === -1) at = body.indexOf(locate, searchFrom);
    if (at === -1) continue;
    searchFrom = at + locate.length;
    const atByte = Buffer.byteLength(body.slice(0, at));
    const innerMap: ByteMap = (b) => map(Math.max(0, Math.min(atByte + b + offset, bodyBytes.length)));
    // A dynamic EXECUTE of one constant string ('...', E'...', $$...$$ or $tag$...$tag$): lint the string's SQL.
    const lit = /^(?:[Ee]?'|\$)/.test(locate) ? decodeLiteral(locate, 0) : undefined;
    if (lit && lit.end >= locate.trimEnd().length) {
      const toBody = (i: number): number => map(atByte + Buffer.byteLength(locate.slice(0, i)));
      out.push(...parseEmbedded(lit.value, byteMapOf(lit.value, lit.indexOf, toBody), via));
      continue;
    }
    // Any other EXECUTE builds its SQL at run time (format(), ||, a variable): the expression is not SQL to lint.
    if (dynamic) continue;
    if (query === locate || offset !== 0) out.push(...parseEmbedded(sql, innerMap, via));
  }
  return out;
}
