/**
 * Splits one file into statements and parses each with libpg-query, the PostgreSQL grammar.
 *
 * The whole file is parsed at once when it can be (the fast path). When the grammar rejects the
 * file, the PostgreSQL scanner splits it at top-level semicolons and each statement is parsed on
 * its own, so one bad statement becomes one syntax error and the rest of the file is still read.
 * psql meta-commands and the data lines of COPY ... FROM stdin are blanked out first, byte for
 * byte, so that every offset the parser reports is still an offset into the original file.
 */
import * as pg from 'libpg-query';
import { SourceText } from './source';
import type { AstNode } from './ast';

export interface ParsedStatement {
  /** String indices into the file text: first character of the statement, end of its last token. */
  start: number;
  end: number;
  /** The statement's node: an object with one key, the node type (e.g. { IndexStmt: {...} }). */
  node?: AstNode;
  /** Set when the grammar rejected the statement. */
  error?: { message: string; index: number };
  /** Byte offset in the file that AST `location` fields are relative to. */
  byteBase: number;
  /** Old syntax (BDR 1 / PostgreSQL < 12) that was rewritten so that today's grammar accepts it. */
  legacy?: { sequenceUsing?: string; withOids?: boolean };
}

export interface Comment {
  start: number;
  end: number;
  text: string;
}

export interface ParsedFile {
  statements: ParsedStatement[];
  /** Comments of the file, in order (only collected when `wantComments` was asked for). */
  comments: Comment[];
  /** Ranges (string indices) that were blanked: psql meta-commands and COPY data. */
  skipped: Array<{ start: number; end: number; kind: 'meta-command' | 'copy-data' }>;
}

let loaded: Promise<void> | null = null;

/** Loads the WASM parser once. Every other function here needs it loaded. */
export function loadParser(): Promise<void> {
  if (!loaded) loaded = pg.loadModule();
  return loaded;
}

interface Token {
  start: number; // byte offsets
  end: number;
  text: string;
  name: string;
}

interface ScanOutcome {
  tokens: Token[];
  /** Byte offset of a lexical error (unterminated quote, comment, ...) that ended the scan. */
  errorAt?: number;
  errorMessage?: string;
}

/** Parses a piece of SQL; returns the tree or the error with its byte offset in `sql`. */
export function parseSql(sql: string): { stmts: pg.RawStmt[] } | { message: string; byte: number } {
  try {
    const result = pg.parseSync(sql);
    return { stmts: result.stmts ?? [] };
  } catch (e) {
    return parseError(e, sql);
  }
}

function parseError(e: unknown, sql: string): { message: string; byte: number } {
  if (pg.hasSqlDetails(e) && e.sqlDetails) {
    // PostgreSQL's error cursor counts characters (code points) from 0, not bytes.
    return { message: e.sqlDetails.message, byte: byteOfChar(sql, e.sqlDetails.cursorPosition) };
  }
  const message = e instanceof Error ? e.message : String(e);
  return { message, byte: 0 };
}

/** The UTF-8 byte offset of the code point at index `chars` of `sql` (its length past the end). */
function byteOfChar(sql: string, chars: number): number {
  let bytes = 0;
  let i = 0;
  for (let n = 0; n < chars && i < sql.length; n++) {
    const c = sql.codePointAt(i)!;
    bytes += c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
    i += c > 0xffff ? 2 : 1;
  }
  return bytes;
}

/** Runs the PostgreSQL scanner. A lexical error keeps the tokens before it. */
function scan(sql: string): ScanOutcome {
  if (sql.trim() === '') return { tokens: [] };
  try {
    return { tokens: pg.scanSync(sql).tokens.map(toToken) };
  } catch (e) {
    // The scanner does not say where it stopped; the parser does, for the same lexical error.
    const err = parseSql(sql);
    if (!('byte' in err)) throw e;
    const prefix = Buffer.from(sql, 'utf8').subarray(0, err.byte).toString('utf8');
    let tokens: Token[];
    try {
      tokens = prefix.trim() === '' ? [] : pg.scanSync(prefix).tokens.map(toToken);
    } catch {
      tokens = [];
    }
    return { tokens, errorAt: err.byte, errorMessage: err.message };
  }
}

function toToken(t: pg.ScanToken): Token {
  return { start: t.start, end: t.end, text: t.text, name: t.tokenName };
}

const isComment = (t: Token): boolean => t.name === 'SQL_COMMENT' || t.name === 'C_COMMENT';

/**
 * Blanks psql meta-commands (a backslash outside quotes, to the end of its line) and the data
 * lines of COPY ... FROM stdin (up to the `\.` line). Replacement keeps every byte offset.
 */
function blankPsqlOnly(source: SourceText, work: Buffer, skipped: ParsedFile['skipped']): Buffer {
  let from = 0; // byte offset where scanning resumes (always at a line start)
  for (let guard = 0; guard < 100000; guard++) {
    const chunk = work.subarray(from).toString('utf8');
    const { tokens } = scan(chunk);
    let changed = false;
    let stmtFirst: Token | null = null;
    let copyFromStdin = false;
    let prev: Token | null = null;
    for (const tok of tokens) {
      if (isComment(tok)) continue;
      const absStart = from + tok.start;
      if (tok.text === '\\') {
        const lineEnd = endOfLine(work, absStart);
        fillSpaces(work, absStart, lineEnd);
        skipped.push({ start: source.indexOfByte(absStart), end: source.indexOfByte(lineEnd), kind: 'meta-command' });
        from = lineEnd;
        changed = true;
        break;
      }
      if (!stmtFirst) {
        stmtFirst = tok;
        copyFromStdin = false;
      }
      if (stmtFirst.text.toUpperCase() === 'COPY' && prev && prev.text.toUpperCase() === 'FROM' && tok.text.toUpperCase() === 'STDIN') {
        copyFromStdin = true;
      }
      if (tok.text === ';') {
        if (copyFromStdin) {
          const dataStart = endOfLine(work, from + tok.end);
          const dataEnd = copyDataEnd(work, dataStart);
          fillSpaces(work, dataStart, dataEnd);
          skipped.push({ start: source.indexOfByte(dataStart), end: source.indexOfByte(dataEnd), kind: 'copy-data' });
          from = dataEnd;
          changed = true;
          break;
        }
        stmtFirst = null;
      }
      prev = tok;
    }
    if (!changed) break;
  }
  return work;
}

function endOfLine(buf: Buffer, at: number): number {
  const nl = buf.indexOf(10, at);
  return nl === -1 ? buf.length : nl + 1;
}

/** End (byte offset, after the line break) of COPY data that starts at `start`: the `\.` line. */
function copyDataEnd(buf: Buffer, start: number): number {
  let lineStart = start;
  while (lineStart < buf.length) {
    const lineEnd = endOfLine(buf, lineStart);
    const line = buf.subarray(lineStart, lineEnd).toString('utf8').replace(/\r?\n$/, '');
    if (line === '\\.') return lineEnd;
    lineStart = lineEnd;
  }
  return buf.length;
}

/** Overwrites bytes with spaces, keeping line breaks. */
function fillSpaces(buf: Buffer, start: number, end: number): void {
  for (let i = start; i < end; i++) {
    if (buf[i] !== 10 && buf[i] !== 13) buf[i] = 32;
  }
}

/**
 * Splits a file into statements and parses them.
 * @param wantComments also collect the comments (needed for directives).
 */
export function parseFile(source: SourceText, wantComments: boolean): ParsedFile {
  const skipped: ParsedFile['skipped'] = [];
  let text = source.text;
  // NUL would end the C string inside the parser; a space has the same byte length.
  if (text.includes('\0')) text = text.replace(/\0/g, ' ');
  if (text.includes('\\')) {
    const buf = blankPsqlOnly(source, Buffer.from(text, 'utf8'), skipped);
    if (skipped.length > 0) text = buf.toString('utf8');
  }

  let statements: ParsedStatement[];
  const whole = text.trim() === '' ? { stmts: [] } : parseSql(text);
  let tokens: ScanOutcome | null = null;
  if ('stmts' in whole) {
    statements = fromWholeParse(source, text, whole.stmts);
    const last = statements[statements.length - 1];
    // The last statement runs to the end of the input: trim trailing comments with the scanner.
    if (last && last.end === source.text.length) {
      tokens = scan(text);
      trimLast(source, last, tokens.tokens);
    }
  } else {
    tokens = scan(text);
    statements = splitAndParse(source, text, tokens);
  }
  // Comments are found on first use: scanning a file costs about as much as parsing it, and most
  // runs read no comment (no directive, a runner without annotation comments).
  let comments: Comment[] | undefined;
  return {
    statements,
    get comments(): Comment[] {
      if (comments) return comments;
      comments = [];
      if (wantComments) {
        tokens ??= scan(text);
        for (const t of tokens.tokens) {
          if (isComment(t)) {
            const start = source.indexOfByte(t.start);
            const end = source.indexOfByte(t.end);
            comments.push({ start, end, text: source.text.slice(start, end) });
          }
        }
      }
      return comments;
    },
    skipped,
  };
}

function fromWholeParse(source: SourceText, text: string, stmts: pg.RawStmt[]): ParsedStatement[] {
  const total = Buffer.byteLength(text);
  return stmts.map((raw) => {
    const loc = raw.stmt_location ?? 0;
    const endByte = raw.stmt_len ? loc + raw.stmt_len : total;
    const start = source.indexOfByte(loc);
    let end = source.indexOfByte(endByte);
    while (end > start && /\s/.test(source.text[end - 1])) end--;
    return { start, end, node: raw.stmt as AstNode, byteBase: 0 };
  });
}

function trimLast(source: SourceText, stmt: ParsedStatement, tokens: Token[]): void {
  for (let i = tokens.length - 1; i >= 0; i--) {
    const t = tokens[i];
    if (isComment(t) || t.text === ';') continue;
    const end = source.indexOfByte(t.end);
    if (end > stmt.start && end < stmt.end) stmt.end = end;
    return;
  }
}

/** Splits at top-level semicolons (not inside parentheses or a BEGIN ATOMIC body) and parses each. */
function splitAndParse(source: SourceText, text: string, scanned: ScanOutcome): ParsedStatement[] {
  const buf = Buffer.from(text, 'utf8');
  const out: ParsedStatement[] = [];
  let first: Token | null = null;
  let last: Token | null = null;
  let depth = 0;
  let beginDepth = 0;
  let routine = false; // CREATE [OR REPLACE] FUNCTION / PROCEDURE: BEGIN ATOMIC bodies hold semicolons
  let words = 0;

  let pieceTokens: Token[] = [];
  const flush = (endByte: number | null): void => {
    if (!first || !last) return;
    const startByte = first.start;
    pieceTokens = pieceTokens.map((t) => ({ ...t, start: t.start - startByte, end: t.end - startByte }));
    const stopByte = endByte ?? last.end;
    const piece = buf.subarray(startByte, stopByte).toString('utf8');
    const start = source.indexOfByte(startByte);
    const end = source.indexOfByte(last.end);
    let parsed = parseSql(piece);
    let legacy: ParsedStatement['legacy'];
    if (!('stmts' in parsed)) {
      const retry = legacySyntax(piece, pieceTokens);
      if (retry) {
        const again = parseSql(retry.sql);
        if ('stmts' in again) {
          parsed = again;
          legacy = retry.legacy;
        }
      }
    }
    if ('stmts' in parsed) {
      if (parsed.stmts.length === 0) return;
      const raw = parsed.stmts[0];
      out.push({ start, end, node: raw.stmt as AstNode, byteBase: startByte, legacy });
    } else {
      out.push({ start, end, error: { message: parsed.message, index: source.indexOfByte(startByte + parsed.byte) }, byteBase: startByte });
    }
  };

  for (const tok of scanned.tokens) {
    if (isComment(tok)) continue;
    const upper = tok.text.toUpperCase();
    if (!first) {
      first = tok;
      pieceTokens = [];
      depth = 0;
      beginDepth = 0;
      routine = false;
      words = 0;
    }
    words++;
    pieceTokens.push(tok);
    if (words <= 4 && (upper === 'FUNCTION' || upper === 'PROCEDURE')) routine = true;
    if (tok.text === '(') depth++;
    else if (tok.text === ')') depth = Math.max(0, depth - 1);
    else if (routine && upper === 'BEGIN') beginDepth++;
    else if (routine && beginDepth > 0 && upper === 'CASE') beginDepth++;
    else if (routine && beginDepth > 0 && upper === 'END') beginDepth--;
    if (tok.text === ';' && depth === 0 && beginDepth === 0) {
      if (last && last !== tok) flush(null);
      first = null;
      last = null;
      continue;
    }
    last = tok;
  }
  if (scanned.errorAt !== undefined) {
    // A lexical error (unterminated quote, dollar quote or comment) swallows the rest of the file.
    const startByte = first ? first.start : scanned.errorAt;
    const start = source.indexOfByte(startByte);
    let end = source.text.length;
    while (end > start && /\s/.test(source.text[end - 1])) end--;
    out.push({
      start,
      end,
      error: { message: scanned.errorMessage ?? 'syntax error', index: source.indexOfByte(scanned.errorAt) },
      byteBase: startByte,
    });
  } else {
    flush(buf.length);
  }
  return out;
}

/**
 * BDR 1 runs on PostgreSQL 9.4, whose migrations may use syntax today's grammar rejects:
 * `CREATE SEQUENCE ... USING bdr` (BDR 1 global sequences) and `WITH OIDS`. The statement is
 * reparsed without it, and the finding rules learn what was there.
 */
function legacySyntax(piece: string, tokens: Token[]): { sql: string; legacy: NonNullable<ParsedStatement['legacy']> } | undefined {
  const up = tokens.map((t) => t.text.toUpperCase());
  const buf = Buffer.from(piece, 'utf8');
  const cut = (from: Token, to: Token, replacement = ''): string =>
    buf.subarray(0, from.start).toString('utf8') + replacement + buf.subarray(to.end).toString('utf8');
  if (up[0] === 'CREATE' && up.slice(0, 4).includes('SEQUENCE')) {
    const i = up.indexOf('USING');
    if (i > 0 && i + 1 < tokens.length) {
      return { sql: cut(tokens[i], tokens[i + 1]), legacy: { sequenceUsing: tokens[i + 1].text.toLowerCase() } };
    }
  }
  for (let i = 0; i + 1 < up.length; i++) {
    if (up[i] === 'WITH' && up[i + 1] === 'OIDS') {
      const set = i > 0 && up[i - 1] === 'SET';
      return { sql: cut(tokens[i], tokens[i + 1], set ? 'WITHOUT OIDS' : ''), legacy: { withOids: true } };
    }
  }
  return undefined;
}
