/**
 * The migration model of one run: files in the order the runner applies them, their statements
 * (with the SQL embedded in PGD calls and DO blocks), the transaction of every statement, and
 * the ignore directives. The catalog is replayed over this model by the linter (lint.ts).
 */
import { AstNode, AstValue, fields, nodeType } from './ast';
import { EmbedKind, embeddedIn } from './embedded';
import { Comment, ParsedFile, parseFile } from './parser';
import { flywayNonTransactional } from './concurrent-statements';
import { cannotRunInTransaction } from './pgd';
import { Execution, RunnerPreset } from './runners';
import { SourceText } from './source';

export interface InputFile {
  /** Path as shown in reports. */
  path: string;
  /** Path relative to the folder it was found in (runner patterns match it). */
  rel: string;
  text: string;
  /** Flyway `<file>.sql.conf`, when there is one. */
  conf?: string;
  /** Whether findings of this file are reported (files replayed only for the catalog are not). */
  report: boolean;
}

export type TxKind =
  /** BEGIN / START TRANSACTION ... COMMIT written in the file. */
  | 'explicit'
  /** The transaction the runner opens around a file or section. */
  | 'runner'
  /** PostgreSQL's implicit block for a multi-statement simple query. */
  | 'implicit'
  /** A statement on its own (autocommit). */
  | 'single'
  /** SQL run by bdr.run_on_* on every node, in its own transactions. */
  | 'remote';

export interface Transaction {
  id: number;
  kind: TxKind;
  /** PostgreSQL considers it a transaction block: statements refused in one fail here. */
  block: boolean;
  file: FileModel;
  statements: Stmt[];
  /** Statement that took the global DDL lock first, set while replaying. */
  firstLock?: Stmt;
}

export interface Stmt {
  /** Order in the run. */
  id: number;
  file: FileModel;
  /** String indices into the file text. */
  start: number;
  end: number;
  node?: AstNode;
  /** Node type ('IndexStmt', ...), '' for a syntax error. */
  type: string;
  /** The node's fields. */
  f: AstValue;
  error?: { message: string; index: number };
  /** Maps a byte offset of the parsed text (AST `location`) to a string index of the file. */
  at: (byte: number) => number;
  down: boolean;
  tx: Transaction;
  /** Set for SQL found inside another statement. */
  via?: EmbedKind;
  parent?: Stmt;
  /** Function-body SQL is kept for reference only: it is not executed by the migration. */
  executed: boolean;
  /** Syntax of old PostgreSQL / BDR 1 that today's grammar rejects, rewritten for parsing. */
  legacy: { sequenceUsing?: string; withOids?: boolean };
}

export interface Directive {
  /** Comment range. */
  start: number;
  end: number;
  line: number;
  column: number;
  file: boolean;
  ids: string[];
  /** Statement covered (line directives). */
  stmt?: Stmt;
  used: Set<string>;
}

export interface FileModel {
  index: number;
  path: string;
  rel: string;
  source: SourceText;
  report: boolean;
  statements: Stmt[];
  directives: Directive[];
  hasSyntaxError: boolean;
  sections: Array<{ start: number; end: number; down: boolean; execution: Execution }>;
}

export interface RunModel {
  files: FileModel[];
  transactions: Transaction[];
  /** The runner preset's name (`plain`, `flyway`, `goose`, ...), for rules that word runner-specific advice. */
  runner: string;
}

export interface ModelOptions {
  runner: RunnerPreset;
  includeDown: boolean;
}

const DIRECTIVE = /^(?:--|\/\*)\s*pgd-lint-(ignore-file|ignore)\b([^\n]*?)(?:\*\/)?\s*$/;

function parseDirective(c: Comment, source: SourceText): Directive | undefined {
  const m = DIRECTIVE.exec(c.text);
  if (!m) return undefined;
  // Ids come before an optional "-- reason".
  const list = m[2].split(/\s--\s?|^--/)[0];
  const ids = list.split(/[\s,]+/).filter((s) => s !== '');
  const pos = source.position(c.start);
  return { start: c.start, end: c.end, line: pos.line, column: pos.column, file: m[1] === 'ignore-file', ids, used: new Set() };
}

let nextStmtId = 0;
/**
 * Parsed files by text, kept between runs when a long-lived process asks for it (the language
 * server lints the same neighbour migrations again on every change). Parse results are only read
 * by the model and the rules, never changed, so one result can serve many runs.
 */
let parsedCache: { max: number; files: Map<string, ParsedFile> } | undefined;

/** Keeps up to `max` parsed files between runs (0 turns the cache off). */
export function keepParsedFiles(max: number): void {
  parsedCache = max > 0 ? { max, files: new Map() } : undefined;
}

function parseCached(source: SourceText, wantComments: boolean): ParsedFile {
  if (!parsedCache) return parseFile(source, wantComments);
  // wantComments is a function of the text, so the text alone is the key.
  const files = parsedCache.files;
  let parsed = files.get(source.text);
  if (parsed) files.delete(source.text);
  else parsed = parseFile(source, wantComments);
  files.set(source.text, parsed);
  if (files.size > parsedCache.max) files.delete(files.keys().next().value as string);
  return parsed;
}
let nextTxId = 0;

/** Builds the model of a run from files already in the runner's order. */
export function buildModel(inputs: InputFile[], opts: ModelOptions): RunModel {
  const files: FileModel[] = [];
  const transactions: Transaction[] = [];
  inputs.forEach((input, index) => files.push(buildFile(input, index, opts, transactions)));
  return { files, transactions, runner: opts.runner.name };
}

function buildFile(input: InputFile, index: number, opts: ModelOptions, transactions: Transaction[]): FileModel {
  const source = new SourceText(input.text);
  const wantComments = input.text.includes('pgd-lint-') || input.text.includes('--') || input.text.includes('/*');
  const parsed = parseCached(source, wantComments);
  const file: FileModel = {
    index,
    path: input.path,
    rel: input.rel,
    source,
    report: input.report,
    statements: [],
    directives: [],
    hasSyntaxError: false,
    sections: [],
  };
  const nodes = parsed.statements;
  const nonTx = nodes.filter((s) => s.node && cannotRunInTransaction(s.node)).length;
  const flywayNonTx = nodes.some((s) => s.node && flywayNonTransactional(s.node));
  const fileDown = opts.runner.isDownFile(input.rel);
  let comments: Array<{ start: number; text: string }> | undefined;
  file.sections = opts.runner.sections(
    {
      text: input.text,
      // Read on first use only (most runners never look at comments).
      get comments() {
        return (comments ??= parsed.comments.map((c) => ({ start: c.start, text: c.text })));
      },
      conf: input.conf,
      hasNonTransactional: nonTx > 0,
      allNonTransactional: nonTx > 0 && nonTx === nodes.length,
      flywayNonTransactional: flywayNonTx,
    },
    input.rel,
  ).map((s) => ({ ...s, down: s.down || fileDown }));

  // Transactions, section by section.
  const tx = new TxBuilder(file, transactions, opts.runner.reopensAfterCommit);
  for (const section of file.sections) {
    const inSection = nodes.filter((s) => s.start >= section.start && s.start < section.end);
    tx.startSection(section.execution, inSection.length);
    for (const p of inSection) {
      const stmt: Stmt = {
        id: nextStmtId++,
        file,
        start: p.start,
        end: p.end,
        node: p.node,
        type: p.node ? nodeType(p.node) : '',
        f: p.node ? fields(p.node) : {},
        error: p.error,
        at: (b) => source.indexOfByte(p.byteBase + b),
        down: section.down && !opts.includeDown,
        tx: undefined as unknown as Transaction,
        executed: true,
        legacy: p.legacy ?? {},
      };
      if (p.error) file.hasSyntaxError = true;
      tx.add(stmt);
      file.statements.push(stmt);
      if (stmt.node) addEmbedded(stmt, file, tx, transactions);
    }
    tx.endSection();
  }

  // A directive's comment holds "pgd-lint-": without it in the file, the comments are not needed.
  for (const c of input.text.includes('pgd-lint-') ? parsed.comments : []) {
    const d = parseDirective(c, source);
    if (!d) continue;
    if (!d.file) d.stmt = coveredStatement(file.statements, c, source);
    file.directives.push(d);
  }
  return file;
}

/** The statement a line directive covers: the one it trails on its line, or the next one. */
function coveredStatement(stmts: Stmt[], c: Comment, source: SourceText): Stmt | undefined {
  const top = stmts.filter((s) => !s.parent);
  const line = source.position(c.start).line;
  for (const s of top) {
    if (s.start <= c.start && c.start <= s.end) return s; // inside the statement
  }
  for (let i = top.length - 1; i >= 0; i--) {
    const s = top[i];
    if (s.end <= c.start) {
      if (source.position(s.end).line === line && source.position(s.start).line <= line) {
        // Trails a statement on the same line, unless a statement starts later on that line.
        return s;
      }
      break;
    }
  }
  return top.find((s) => s.start >= c.end);
}

function addEmbedded(parent: Stmt, file: FileModel, tx: TxBuilder, transactions: Transaction[]): void {
  const found = embeddedIn(parent.node, file.source, parent.at, file.source.text.slice(parent.start, parent.end));
  for (const e of found) {
    const remote = e.via.startsWith('run_on_');
    const child: Stmt = {
      id: nextStmtId++,
      file,
      start: e.start,
      end: e.end,
      node: e.node,
      type: e.node ? nodeType(e.node) : '',
      f: e.node ? fields(e.node) : {},
      error: e.error,
      at: e.map,
      down: parent.down,
      tx: parent.tx,
      via: e.via,
      parent,
      executed: e.via !== 'function',
      legacy: {},
    };
    if (e.error && child.executed) file.hasSyntaxError = true;
    if (remote) {
      // Every node runs it over its own connection: outside the caller's transaction.
      const t: Transaction = { id: nextTxId++, kind: 'remote', block: false, file, statements: [child] };
      transactions.push(t);
      child.tx = t;
    } else if (child.executed) {
      parent.tx.statements.push(child);
    }
    file.statements.push(child);
    if (child.node && child.executed) addEmbedded(child, file, tx, transactions);
  }
}

/** The transaction state machine of one file. */
class TxBuilder {
  private current: Transaction | null = null;
  private execution: Execution = 'autocommit';
  private sectionSize = 0;
  constructor(
    private readonly file: FileModel,
    private readonly all: Transaction[],
    private readonly reopen: boolean,
  ) {}

  private open(kind: TxKind, block: boolean): Transaction {
    const t: Transaction = { id: nextTxId++, kind, block, file: this.file, statements: [] };
    this.all.push(t);
    this.current = t;
    return t;
  }

  startSection(execution: Execution, size: number): void {
    this.execution = execution;
    this.sectionSize = size;
    this.current = null;
    if (execution === 'transaction') this.open('runner', true);
    else if (execution === 'single-query' && size > 1) this.open('implicit', true);
  }

  endSection(): void {
    this.current = null;
  }

  /** The transaction a statement that is not in an explicit one falls into. */
  private ambient(): Transaction {
    if (this.current) return this.current;
    if (this.execution === 'transaction' && this.reopen) return this.open('runner', true);
    if (this.execution === 'single-query' && this.sectionSize > 1) return this.open('implicit', true);
    const t = this.open('single', false);
    this.current = null;
    return t;
  }

  add(stmt: Stmt): void {
    if (stmt.type !== 'TransactionStmt') {
      const t = this.ambient();
      stmt.tx = t;
      t.statements.push(stmt);
      return;
    }
    const kind: string = stmt.f.kind;
    switch (kind) {
      case 'TRANS_STMT_BEGIN':
      case 'TRANS_STMT_START': {
        // BEGIN inside a transaction block only warns; it starts one otherwise.
        const t = this.current && this.current.block ? this.current : this.open('explicit', true);
        if (t.kind === 'implicit') t.kind = 'explicit';
        stmt.tx = t;
        t.statements.push(stmt);
        return;
      }
      case 'TRANS_STMT_COMMIT':
      case 'TRANS_STMT_ROLLBACK':
      case 'TRANS_STMT_PREPARE': {
        const t = this.current ?? this.open('single', false);
        stmt.tx = t;
        t.statements.push(stmt);
        this.current = null;
        if (stmt.f.chain) this.open('explicit', true);
        return;
      }
      default: {
        const t = this.ambient();
        stmt.tx = t;
        t.statements.push(stmt);
      }
    }
  }
}
