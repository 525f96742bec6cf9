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
import type { AstNode, AstValue } from './ast';

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
    const found = lexicalError(sql);
    if (found) return found;
    // Not found (never seen): the whole text is one error rather than a crash.
    return { tokens: [], errorAt: 0, errorMessage: e instanceof Error ? e.message : String(e) };
  }
}

const GRAMMAR_ERROR = /^syntax error at (or near|end of input)/;

/**
 * The scanner failed on `sql` and does not say where; the parser does, but it reports the first
 * error, which may be a grammar error in an earlier statement. Such errors are stepped over, a
 * token at a time, until the parser reports the lexical error (unterminated quote, dollar quote,
 * comment, ...): the tokens before it, and where it is.
 */
function lexicalError(sql: string): ScanOutcome | undefined {
  const buf = Buffer.from(sql, 'utf8');
  const tokens: Token[] = [];
  const take = (list: Token[], base: number): void => {
    for (const t of list) tokens.push({ ...t, start: t.start + base, end: t.end + base });
  };
  let at = 0; // the scanner starts afresh here: a token boundary
  for (let guard = 0; guard < 10000 && at < buf.length; guard++) {
    const rest = buf.subarray(at).toString('utf8');
    const err = parseSql(rest);
    if (!('byte' in err)) return undefined;
    const before = buf.subarray(at, at + err.byte).toString('utf8');
    let prefix: Token[];
    try {
      prefix = before.trim() === '' ? [] : pg.scanSync(before).tokens.map(toToken);
    } catch {
      return { tokens, errorAt: at, errorMessage: err.message };
    }
    take(prefix, at);
    const step = GRAMMAR_ERROR.test(err.message) ? errorToken(err.message, buf, at + err.byte) : undefined;
    if (!step) return { tokens, errorAt: at + err.byte, errorMessage: err.message };
    take([step], at + err.byte);
    at += err.byte + step.end;
  }
  return { tokens, errorAt: at, errorMessage: 'syntax error' };
}

/**
 * The token a grammar error is at: PostgreSQL's message quotes its text (`syntax error at or near
 * "..."`), which must be what the input has there; else the scanner finds it.
 */
function errorToken(message: string, buf: Buffer, pos: number): Token | undefined {
  const near = /^syntax error at or near "([\s\S]*)"$/.exec(message)?.[1];
  if (near) {
    const bytes = Buffer.from(near, 'utf8');
    if (bytes.length > 0 && buf.subarray(pos, pos + bytes.length).equals(bytes)) return { start: 0, end: bytes.length, text: near, name: 'ERROR_TOKEN' };
  }
  return firstToken(buf, pos);
}

/**
 * The token that starts at byte `pos`: scanning a growing piece until a second token begins (small
 * pieces first, so that an unterminated literal further on is not in them).
 */
function firstToken(buf: Buffer, pos: number): Token | undefined {
  for (let size = 2; ; size *= 2) {
    let end = Math.min(buf.length, pos + size);
    while (end > pos && end < buf.length && (buf[end] & 0xc0) === 0x80) end--;
    try {
      const list = pg.scanSync(buf.subarray(pos, end).toString('utf8')).tokens.map(toToken);
      if (list.length >= 2 || (end === buf.length && list.length === 1)) return list[0];
    } catch {
      /* cut inside the token: a longer piece */
    }
    if (end === buf.length) return undefined;
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
export function parseFile(source: SourceText, wantComments: boolean, sizes: ChunkSizes = DEFAULT_SIZES): ParsedFile {
  const skipped: ParsedFile['skipped'] = [];
  let text = source.text;
  // NUL would end the C string inside the parser; a space has the same byte length.
  if (text.includes('\0')) text = text.replace(/\0/g, ' ');
  if (text.includes('\\')) {
    const buf = blankPsqlOnly(source, Buffer.from(text, 'utf8'), skipped);
    if (skipped.length > 0) text = buf.toString('utf8');
  }

  if (Buffer.byteLength(text) > sizes.bigFile) return parseInChunks(source, text, wantComments, skipped, sizes.chunk);
  const { statements, tokens: scanned } = parseText(source, text, 0);
  let tokens = scanned;
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
        commentsOf(source, tokens.tokens, 0, comments);
      }
      return comments;
    },
    skipped,
  };
}

/** The comments among tokens of text that starts at byte `base` of the file. */
function commentsOf(source: SourceText, tokens: Token[], base: number, out: Comment[]): void {
  for (const t of tokens) {
    if (isComment(t)) {
      const start = source.indexOfByte(base + t.start);
      const end = source.indexOfByte(base + t.end);
      out.push({ start, end, text: source.text.slice(start, end) });
    }
  }
}

/**
 * Parses `text`, which starts at byte `base` of the file and ends at a statement boundary: at once
 * when the grammar accepts it, else statement by statement. Returns the scan when it made one.
 */
function parseText(source: SourceText, text: string, base: number): { statements: ParsedStatement[]; tokens: ScanOutcome | null } {
  const whole = text.trim() === '' ? { stmts: [] } : parseSql(text);
  if ('stmts' in whole) return { statements: fromWholeParse(source, text, whole.stmts, base), tokens: null };
  const tokens = scan(text);
  return { statements: splitAndParse(source, text, tokens, base), tokens };
}

/**
 * Files above `bigFile` bytes are parsed a piece at a time: the parser's WebAssembly memory is
 * limited (1 GB), and one parse of a file of tens of megabytes (a data dump of INSERTs) exhausts it.
 */
export interface ChunkSizes {
  /** Files above this many bytes are parsed in pieces. */
  bigFile: number;
  /** About this many bytes a piece. */
  chunk: number;
}
const DEFAULT_SIZES: ChunkSizes = { bigFile: 4 * 1024 * 1024, chunk: 1024 * 1024 };

/**
 * A big file in pieces of about `chunkBytes` that end at a top-level semicolon (found with the
 * scanner, so never inside a string, comment or routine body); each piece is parsed as a file of
 * its own would be, at its place in the file.
 */
function parseInChunks(source: SourceText, text: string, wantComments: boolean, skipped: ParsedFile['skipped'], chunkBytes: number): ParsedFile {
  const buf = Buffer.from(text, 'utf8');
  const statements: ParsedStatement[] = [];
  const pieces: Array<{ pos: number; piece: string }> = [];
  let pos = 0;
  while (pos < buf.length) {
    // Fast path: a piece that ends at a line ending in ";" and that the grammar accepts whole ends
    // at a statement boundary (a cut inside a string, a comment, parentheses or a routine body
    // leaves it unterminated: the parser refuses it, and the scanner decides instead).
    const likely = buf.length - pos > chunkBytes ? likelyEnd(buf, pos, pos + chunkBytes) : undefined;
    if (likely !== undefined) {
      const piece = buf.subarray(pos, likely).toString('utf8');
      const parsed = parseSql(piece);
      if ('stmts' in parsed) {
        statements.push(...fromWholeParse(source, piece, parsed.stmts, pos));
        pieces.push({ pos, piece });
        pos = likely;
        continue;
      }
    }
    let cut = buf.length;
    for (let size = chunkBytes; pos + size < buf.length; size *= 2) {
      let end = pos + size;
      while (end > pos && (buf[end] & 0xc0) === 0x80) end--; // not inside a character
      const window = scan(buf.subarray(pos, end).toString('utf8'));
      const ends = statementEnds(window.tokens);
      if (ends.length > 0) {
        cut = pos + window.tokens[ends[ends.length - 1]].end;
        break;
      }
    }
    const piece = buf.subarray(pos, cut).toString('utf8');
    statements.push(...parseText(source, piece, pos).statements);
    pieces.push({ pos, piece });
    pos = cut;
  }
  let comments: Comment[] | undefined;
  return {
    statements,
    // On first use, as for other files.
    get comments(): Comment[] {
      if (!comments) {
        comments = [];
        if (wantComments) for (const p of pieces) commentsOf(source, scan(p.piece).tokens, p.pos, comments);
      }
      return comments;
    },
    skipped,
  };
}

/**
 * The byte after the last `;` at a line's end in buf[from, to) whose line has no `--` before it
 * (a `;` in a line comment ends nothing), or undefined.
 */
function likelyEnd(buf: Buffer, from: number, to: number): number | undefined {
  for (let at = buf.lastIndexOf(';\n', to - 2); at > from; at = buf.lastIndexOf(';\n', at - 1)) {
    const lineStart = buf.lastIndexOf(10, at) + 1;
    if (buf.subarray(Math.max(lineStart, from), at).includes('--')) continue;
    return at + 2;
  }
  return undefined;
}

/** Indexes of the tokens that end a statement: semicolons outside parentheses and routine bodies. */
function statementEnds(tokens: Token[]): number[] {
  const ends: number[] = [];
  forEachStatement(tokens, (endIndex) => ends.push(endIndex));
  return ends;
}

function fromWholeParse(source: SourceText, text: string, stmts: pg.RawStmt[], base: number): ParsedStatement[] {
  const total = Buffer.byteLength(text);
  return stmts.map((raw) => {
    const loc = raw.stmt_location ?? 0;
    const endByte = raw.stmt_len ? loc + raw.stmt_len : total;
    const start = source.indexOfByte(base + loc);
    let end = source.indexOfByte(base + endByte);
    while (end > start && /\s/.test(source.text[end - 1])) end--;
    // The statement ends with its last token: a comment before its semicolon (or the end of the
    // file) is not part of it, as when the file is split statement by statement.
    const slice = source.text.slice(start, end);
    if (slice.includes('--') || slice.includes('/*')) {
      const tokens = scan(slice).tokens;
      for (let i = tokens.length - 1; i >= 0; i--) {
        const t = tokens[i];
        if (isComment(t) || t.text === ';') continue;
        end = source.indexOfByte(base + loc + t.end);
        break;
      }
    }
    return { start, end, node: raw.stmt as AstNode, byteBase: base };
  });
}

/**
 * Walks the statements of a token list: calls `onEnd` with the index of each top-level semicolon
 * (not inside parentheses or a BEGIN ATOMIC body) and the index of the statement's first token.
 */
function forEachStatement(tokens: Token[], onEnd: (endIndex: number, firstIndex: number) => void): void {
  let first = -1;
  let depth = 0;
  let beginDepth = 0;
  let routine = false; // CREATE [OR REPLACE] FUNCTION / PROCEDURE: BEGIN ATOMIC bodies hold semicolons
  let words = 0;
  for (let i = 0; i < tokens.length; i++) {
    const tok = tokens[i];
    if (isComment(tok)) continue;
    const upper = tok.text.toUpperCase();
    if (first === -1) {
      first = i;
      depth = 0;
      beginDepth = 0;
      routine = false;
      words = 0;
    }
    words++;
    if (words <= 4 && (upper === 'FUNCTION' || upper === 'PROCEDURE')) routine = true;
    if (tok.text === '(') depth++;
    else if (tok.text === ')') depth = Math.max(0, depth - 1);
    else if (routine && upper === 'BEGIN') beginDepth++;
    else if (routine && beginDepth > 0 && upper === 'CASE') beginDepth++;
    else if (routine && beginDepth > 0 && upper === 'END') beginDepth--;
    if (tok.text === ';' && depth === 0 && beginDepth === 0) {
      onEnd(i, first);
      first = -1;
    }
  }
}

/**
 * Splits at top-level semicolons and parses each statement. `text` starts at byte `base` of the
 * file; token offsets are bytes of `text`.
 */
function splitAndParse(source: SourceText, text: string, scanned: ScanOutcome, base: number): ParsedStatement[] {
  const buf = Buffer.from(text, 'utf8');
  const out: ParsedStatement[] = [];
  const tokens = scanned.tokens;

  /** Parses tokens[from..to] (no semicolon), the text up to `stopByte` (default: its last token's end). */
  const flush = (from: number, to: number, stopByte?: number): void => {
    const code = tokens.slice(from, to + 1).filter((t) => !isComment(t));
    if (code.length === 0) return;
    const startByte = code[0].start;
    stopByte ??= code[code.length - 1].end;
    const pieceTokens = code.map((t) => ({ ...t, start: t.start - startByte, end: t.end - startByte }));
    const piece = buf.subarray(startByte, stopByte).toString('utf8');
    const start = source.indexOfByte(base + startByte);
    const end = source.indexOfByte(base + code[code.length - 1].end);
    let parsed = parseSql(piece);
    let legacy: ParsedStatement['legacy'];
    if (!('stmts' in parsed)) {
      const retry = legacySyntax(piece, pieceTokens);
      if (retry) {
        const again = parseSql(retry.sql);
        if ('stmts' in again) {
          parsed = again;
          legacy = retry.legacy;
          const alter = retry.dropOptions ? (again.stmts[0]?.stmt as AstValue | undefined)?.AlterSeqStmt : undefined;
          if (alter) delete alter.options;
        }
      }
    }
    if ('stmts' in parsed) {
      if (parsed.stmts.length === 0) return;
      const raw = parsed.stmts[0];
      out.push({ start, end, node: raw.stmt as AstNode, byteBase: base + startByte, legacy });
    } else {
      out.push({ start, end, error: { message: parsed.message, index: source.indexOfByte(base + startByte + parsed.byte) }, byteBase: base + startByte });
    }
  };

  let next = 0; // first token not yet in a statement
  forEachStatement(tokens, (endIndex, firstIndex) => {
    if (endIndex > firstIndex) flush(firstIndex, endIndex - 1);
    next = endIndex + 1;
  });
  const rest = tokens.slice(next);
  const firstCode = next + rest.findIndex((t) => !isComment(t));
  if (scanned.errorAt !== undefined) {
    // A lexical error (unterminated quote, dollar quote or comment) swallows the rest of the text.
    const startByte = firstCode >= next ? tokens[firstCode].start : scanned.errorAt;
    const start = source.indexOfByte(base + startByte);
    let end = source.indexOfByte(base + buf.length);
    while (end > start && /\s/.test(source.text[end - 1])) end--;
    out.push({
      start,
      end,
      error: { message: scanned.errorMessage ?? 'syntax error', index: source.indexOfByte(base + scanned.errorAt) },
      byteBase: base + startByte,
    });
  } else if (firstCode >= next) {
    flush(firstCode, tokens.length - 1, buf.length);
  }
  return out;
}

/**
 * BDR 1 runs on PostgreSQL 9.4, whose migrations may use syntax today's grammar rejects:
 * `CREATE SEQUENCE ... USING bdr` (BDR 1 global sequences) and `WITH OIDS`. The statement is
 * reparsed without it, and the finding rules learn what was there.
 */
function legacySyntax(piece: string, tokens: Token[]): { sql: string; legacy: NonNullable<ParsedStatement['legacy']>; dropOptions?: boolean } | undefined {
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
  // ALTER SEQUENCE s USING bdr: BDR 1 turns a local sequence into a global one. With no other
  // option left the grammar needs one: a placeholder, removed from the tree (dropOptions).
  if (up[0] === 'ALTER' && up[1] === 'SEQUENCE') {
    const i = up.indexOf('USING');
    if (i > 2 && i + 1 < tokens.length) {
      const nameStart = up[2] === 'IF' && up[3] === 'EXISTS' ? 4 : 2;
      const nameLen = i - nameStart; // s, or schema . s
      const alone = i + 2 === tokens.length && (nameLen === 1 || (nameLen === 3 && tokens[nameStart + 1].text === '.'));
      return {
        sql: cut(tokens[i], tokens[i + 1], alone ? 'OWNED BY NONE' : ''),
        legacy: { sequenceUsing: tokens[i + 1].text.toLowerCase() },
        dropOptions: alone,
      };
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
