/**
 * Helpers of the rules no-unsupported-ddl and no-local-only-ddl: session settings as the
 * migration sets them (SET / SET LOCAL / RESET), the leading keywords of a statement (for syntax
 * the grammar rewrites, e.g. CREATE LANGUAGE), statement equality ignoring positions, and facts of
 * the run that only a scan of earlier statements gives (autopartitioned tables, galloc sequences,
 * replica identities).
 */
import * as pg from 'libpg-query';
import { AstValue, QualifiedName, as, fields, names, rangeVarName, typeNameString, walk } from './ast';
import type { Catalog } from './catalog';
import type { RunModel, Stmt } from './model';
import { parseBool, settingChanges } from './session-settings';
import { Target, atLeast } from './targets';

/** True when a GUC value means on (PostgreSQL's boolean parsing: on, true, yes, 1 and prefixes). */
export function isOn(value: string | undefined): boolean {
  return parseBool(value) === true;
}

/** True when a GUC value means off (off, false, no, 0 and prefixes). */
export function isOff(value: string | undefined): boolean {
  return parseBool(value) === false;
}

/** Statements of the file that change this session's settings, in order (DO bodies included). */
function sessionStatements(stmt: Stmt): Stmt[] {
  return stmt.file.statements.filter((s) => s.executed && (!s.via || s.via === 'do'));
}

export interface SettingState {
  /** Lower-cased value, or undefined for the default (never set, RESET, SET ... TO DEFAULT). */
  value: string | undefined;
  /** The SET statement that gave the value. */
  at?: Stmt;
}

/**
 * The value a GUC has in the session when `stmt` runs, as the file sets it (SET, SET LOCAL, RESET,
 * set_config(), DISCARD ALL). SET LOCAL lasts until its transaction ends and does nothing outside a
 * transaction block; a SET in a transaction that is rolled back is forgotten.
 */
export function settingBefore(stmt: Stmt, name: string): SettingState {
  const want = name.toLowerCase();
  let byName = timelines.get(stmt.file.statements);
  if (!byName) {
    byName = new Map();
    timelines.set(stmt.file.statements, byName);
  }
  let timeline = byName.get(want);
  if (!timeline) {
    timeline = settingTimeline(sessionStatements(stmt), want).before;
    byName.set(want, timeline);
  }
  // A statement that is not one of the session's own (SQL run by bdr.run_on_all_nodes, a function
  // body) sees the session as the whole file leaves it.
  return timeline.get(stmt.id) ?? settingTimeline(sessionStatements(stmt), want, stmt).after;
}

/** Per file (its statement list) and setting name: the value before each session statement. */
const timelines = new WeakMap<Stmt[], Map<string, Map<number, SettingState>>>();

/**
 * One pass over the session's statements: the setting's value before each of them, and after the
 * last one as `next` would see it. Linear, so that asking for every statement of a long file
 * costs no more than one walk of it.
 */
function settingTimeline(statements: Stmt[], want: string, next?: Stmt): { before: Map<number, SettingState>; after: SettingState } {
  const before = new Map<number, SettingState>();
  let session: SettingState = { value: undefined };
  let local: { state: SettingState; tx: Stmt['tx'] } | undefined;
  let pendingTx: { tx: Stmt['tx']; before: SettingState } | undefined;
  const endTx = (s: Stmt | undefined): void => {
    if (local && (!s || s.tx !== local.tx)) local = undefined;
    if (pendingTx && (!s || s.tx !== pendingTx.tx)) {
      const last = pendingTx.tx.statements[pendingTx.tx.statements.length - 1];
      if (last && last.type === 'TransactionStmt' && fields(last.node).kind === 'TRANS_STMT_ROLLBACK') session = pendingTx.before;
      pendingTx = undefined;
    }
  };
  for (const s of statements) {
    endTx(s);
    before.set(s.id, local ? local.state : session);
    for (const c of settingChanges(s)) {
      if (c.name !== want && !c.all) continue;
      const state: SettingState = { value: c.all ? undefined : c.value, at: s };
      const inBlock = s.tx.block || !!s.parent;
      if (c.local) {
        if (inBlock) local = { state, tx: s.tx };
      } else {
        if (s.tx.block && !pendingTx) pendingTx = { tx: s.tx, before: session };
        session = state;
        if (local && local.tx === s.tx) local = { state, tx: s.tx };
      }
    }
  }
  endTx(next);
  return { before, after: local ? local.state : session };
}

/** The first keywords of a statement as written (the grammar rewrites some, e.g. CREATE LANGUAGE). */
export function leadingWords(stmt: Stmt, count: number): string[] {
  const text = stmt.file.source.text.slice(stmt.start, stmt.end);
  try {
    const tokens = pg.scanSync(text).tokens.filter((t) => t.tokenName !== 'SQL_COMMENT' && t.tokenName !== 'C_COMMENT');
    return tokens.slice(0, count).map((t) => t.text.toUpperCase());
  } catch {
    return [];
  }
}

/** A statement's tree as text with positions removed: equal for the same statement written twice. */
export function shape(node: AstValue): string {
  return JSON.stringify(node, (k, v) => (k === 'location' || k === 'stmt_location' || k === 'stmt_len' ? undefined : v));
}

/** The text of the SQL statement as written in the file, without its comments and trailing semicolon. */
export function writtenSql(stmt: Stmt): string {
  const text = stmt.file.source.text.slice(stmt.start, stmt.end);
  let out = text;
  try {
    // Token offsets are UTF-8 byte offsets.
    const buf = Buffer.from(text, 'utf8');
    const comments = pg.scanSync(text).tokens.filter((t) => t.tokenName === 'SQL_COMMENT' || t.tokenName === 'C_COMMENT');
    if (comments.length > 0) {
      const parts: string[] = [];
      let at = 0;
      for (const c of comments) {
        parts.push(buf.subarray(at, c.start).toString('utf8'));
        if (c.tokenName === 'C_COMMENT') parts.push(' ');
        at = c.end;
      }
      parts.push(buf.subarray(at).toString('utf8'));
      out = parts.join('').replace(/[ \t]+$/gm, '');
    }
  } catch {
    /* keep the text as written */
  }
  return out.replace(/\n\s*\n/g, '\n').trim().replace(/;\s*$/, '').trim();
}

/**
 * A copy of a statement's tree with every unqualified relation name qualified by the schema the
 * catalog resolves it to (or would create it in), and the names that were unqualified. For SQL run
 * with search_path = '' (BDR 1's bdr.bdr_replicate_ddl_command, spec §7.1). CTE names and
 * temporary relations are left alone.
 */
export function qualifyRelations(node: AstValue, catalog: Catalog): { node: AstValue; bare: string[] } {
  const ctes = new Set<string>();
  walk(node, (type, v) => {
    if (type === 'CommonTableExpr') ctes.add(v.ctename);
    return undefined;
  });
  const bare: string[] = [];
  const copy = JSON.parse(JSON.stringify(node)) as AstValue;
  // RangeVars appear wrapped ({ RangeVar: {...} }) or bare (a statement's `relation` field).
  const visit = (v: AstValue): void => {
    if (v === null || typeof v !== 'object') return;
    if (Array.isArray(v)) {
      v.forEach(visit);
      return;
    }
    if (typeof v.relname === 'string' && 'relpersistence' in v) {
      if (!v.schemaname && v.relpersistence !== 't' && !ctes.has(v.relname)) {
        const q = { name: v.relname as string };
        const known = catalog.table(q) ?? catalog.sequence(q);
        v.schemaname = known ? known.schema : catalog.creationSchema(q);
        if (!bare.includes(q.name)) bare.push(q.name);
      }
      return;
    }
    for (const k of Object.keys(v)) visit(v[k]);
  };
  visit(copy);
  return { node: copy, bare };
}

// ---- facts of the run ------------------------------------------------------------------------

interface RunFacts {
  /** Shapes of the statements run on every node through bdr.run_on_all_nodes. */
  onAllNodes: Set<string>;
  /** bdr.autopartition() / bdr.drop_autopartition() calls, in run order. */
  autopartition: Array<{ id: number; table: QualifiedName; on: boolean }>;
  /** bdr.alter_sequence_set_kind() calls, in run order. */
  sequenceKind: Array<{ id: number; seq: QualifiedName; kind: string }>;
  /** Integer (int2/int4) sequences created by the run: CREATE SEQUENCE AS, serial, identity columns. */
  intSequences: Array<{ id: number; seq: QualifiedName; stmt: Stmt }>;
  /** ALTER TABLE ... REPLICA IDENTITY, in run order (`index`: the index of USING INDEX). */
  replicaIdentity: Array<{ id: number; table: QualifiedName; type: string; index?: string; stmt: Stmt }>;
  /** Named indexes the run creates (CREATE INDEX, also through bdr.run_on_all_nodes): their key columns. */
  indexes: Array<{ id: number; table: QualifiedName; name: string; columns: string[] }>;
  /** Sequences the run creates (CREATE SEQUENCE, serial / bigserial / smallserial columns), for BDR 1's default_sequenceam. */
  sequences: Array<{ id: number; seq: QualifiedName; stmt: Stmt; using?: string }>;
}

const runFacts = new WeakMap<RunModel, RunFacts>();

function funcName(fc: AstValue): string {
  return names(fc.funcname).join('.').toLowerCase();
}

/** A string argument of a call, by position or by name (`relation := 'x'`). */
function stringArg(fc: AstValue, index: number, name: string): string | undefined {
  const args: AstValue[] = fc.args ?? [];
  for (const a of args) {
    const named = as(a, 'NamedArgExpr');
    if (named && String(named.name).toLowerCase() === name) return constText(named.arg);
  }
  const positional = args.filter((a) => !as(a, 'NamedArgExpr'));
  return positional[index] !== undefined ? constText(positional[index]) : undefined;
}

function constText(v: AstValue): string | undefined {
  const cast = as(v, 'TypeCast');
  if (cast) return constText(cast.arg);
  const c = as(v, 'A_Const');
  if (c && c.sval) return c.sval.sval ?? '';
  return undefined;
}

/** A regclass literal ('app."Orders"') as a qualified name (PostgreSQL identifier rules). */
export function parseRegclass(text: string): QualifiedName | undefined {
  try {
    const r = pg.parseSync(`SELECT 1 FROM ${text}`);
    const sel = fields(r.stmts?.[0]?.stmt);
    const rv = as(sel.fromClause?.[0], 'RangeVar');
    return rv ? rangeVarName(rv) : undefined;
  } catch {
    return undefined;
  }
}

function collect(model: RunModel): RunFacts {
  const out: RunFacts = { onAllNodes: new Set(), autopartition: [], sequenceKind: [], intSequences: [], replicaIdentity: [], indexes: [], sequences: [] };
  for (const file of model.files) {
    for (const s of file.statements) {
      if (!s.node || !s.executed) continue;
      if (s.via === 'run_on_all_nodes') out.onAllNodes.add(shape(s.node));
      if (s.type === 'SelectStmt') {
        walk(s.node, (type, v) => {
          if (type !== 'FuncCall') return undefined;
          const fn = funcName(v);
          if (fn === 'bdr.autopartition' || fn === 'bdr.drop_autopartition') {
            const rel = stringArg(v, 0, 'relation');
            const q = rel !== undefined ? parseRegclass(rel) : undefined;
            if (q) out.autopartition.push({ id: s.id, table: q, on: fn === 'bdr.autopartition' });
          } else if (fn === 'bdr.alter_sequence_set_kind') {
            const seq = stringArg(v, 0, 'seqoid');
            const kind = stringArg(v, 1, 'seqkind');
            const q = seq !== undefined ? parseRegclass(seq) : undefined;
            if (q && kind) out.sequenceKind.push({ id: s.id, seq: q, kind: kind.toLowerCase() });
          }
          return undefined;
        });
      }
      if (s.type === 'IndexStmt' && s.f.idxname && s.f.relation) {
        const columns = (s.f.indexParams ?? []).map((p: AstValue) => fields(p).name).filter((n: unknown): n is string => typeof n === 'string');
        out.indexes.push({ id: s.id, table: rangeVarName(s.f.relation), name: s.f.idxname, columns });
      }
      if (s.type === 'CreateSeqStmt' && s.f.sequence) {
        if (s.f.sequence.relpersistence !== 't') out.sequences.push({ id: s.id, seq: rangeVarName(s.f.sequence), stmt: s, using: s.legacy.sequenceUsing });
      }
      if (s.type === 'CreateSeqStmt') {
        const asOpt = (s.f.options ?? []).map(fields).find((o: AstValue) => o.defname === 'as');
        const t = asOpt ? typeNameString(as(asOpt.arg, 'TypeName')) : 'int8';
        if (t === 'int4' || t === 'int2') out.intSequences.push({ id: s.id, seq: rangeVarName(s.f.sequence), stmt: s });
      }
      const addColumns = (table: QualifiedName, defs: AstValue[]): void => {
        for (const d of defs) {
          const cd = as(d, 'ColumnDef');
          if (!cd) continue;
          const t = typeNameString(cd.typeName);
          const serial = t === 'serial' || t === 'serial4' || t === 'smallserial' || t === 'serial2';
          if (serial || t === 'bigserial' || t === 'serial8') {
            out.sequences.push({ id: s.id, seq: { schema: table.schema, name: `${table.name}_${cd.colname}_seq` }, stmt: s });
          }
          const identity = (cd.constraints ?? []).some((c: AstValue) => fields(c).contype === 'CONSTR_IDENTITY') && (t === 'int4' || t === 'int2');
          if (serial || identity) {
            // PostgreSQL names the sequence <table>_<column>_seq (when that name is free).
            out.intSequences.push({ id: s.id, seq: { schema: table.schema, name: `${table.name}_${cd.colname}_seq` }, stmt: s });
          }
        }
      };
      if (s.type === 'CreateStmt') addColumns(rangeVarName(s.f.relation), s.f.tableElts ?? []);
      if (s.type === 'AlterTableStmt') {
        const table = rangeVarName(s.f.relation);
        for (const c of (s.f.cmds ?? []).map(fields)) {
          if (c.subtype === 'AT_AddColumn') addColumns(table, [c.def]);
          if (c.subtype === 'AT_ReplicaIdentity') {
            const ri = as(c.def, 'ReplicaIdentityStmt');
            if (ri) out.replicaIdentity.push({ id: s.id, table, type: ri.identity_type, index: ri.name || undefined, stmt: s });
          }
        }
      }
    }
  }
  return out;
}

function factsOfRun(model: RunModel): RunFacts {
  let f = runFacts.get(model);
  if (!f) {
    f = collect(model);
    runFacts.set(model, f);
  }
  return f;
}

/** True when the same statement is also run on every node through bdr.run_on_all_nodes in this run. */
export function alsoRunOnAllNodes(model: RunModel, stmt: Stmt): boolean {
  return !!stmt.node && factsOfRun(model).onAllNodes.has(shape(stmt.node));
}

/** Same object: names resolved through the catalog's search path when unqualified. */
function sameRelation(catalog: Catalog, a: QualifiedName, b: QualifiedName): boolean {
  if (a.name !== b.name) return false;
  const sa = a.schema ?? catalog.creationSchema(a);
  const sb = b.schema ?? catalog.creationSchema(b);
  return sa === sb;
}

/** The bdr.autopartition() call that made the table autopartitioned, if it still is at `stmt`. */
export function autopartitionedBy(model: RunModel, catalog: Catalog, stmt: Stmt, table: QualifiedName): Stmt | undefined {
  let state: number | undefined;
  for (const e of factsOfRun(model).autopartition) {
    if (e.id >= stmt.id) break;
    if (sameRelation(catalog, e.table, table)) state = e.on ? e.id : undefined;
  }
  return state === undefined ? undefined : findStmt(model, state);
}

function findStmt(model: RunModel, id: number): Stmt | undefined {
  for (const f of model.files) for (const s of f.statements) if (s.id === id) return s;
  return undefined;
}

/**
 * Why a sequence is a galloc sequence at `stmt`, if the run says it is: an explicit
 * bdr.alter_sequence_set_kind(..., 'galloc'), or an integer sequence created by the run where
 * the default kind makes it galloc (`distributed`, PGD 4.1+: galloc for int2/int4, spec §4, §6).
 */
export function gallocReason(model: RunModel, catalog: Catalog, stmt: Stmt, seq: QualifiedName, target: Target): string | undefined {
  const facts = factsOfRun(model);
  let reason: string | undefined;
  let lastId = -1;
  for (const e of facts.sequenceKind) {
    if (e.id >= stmt.id) break;
    if (!sameRelation(catalog, e.seq, seq)) continue;
    if (e.id > lastId) {
      lastId = e.id;
      reason = e.kind === 'galloc' ? 'bdr.alter_sequence_set_kind() made it a galloc sequence' : undefined;
    }
  }
  if (lastId >= 0) return reason;
  if (target.family === 'bdr1' || target.family === 'bdr3' || !atLeast(target, 4, 1)) return undefined;
  for (const e of facts.intSequences) {
    if (e.id >= stmt.id) break;
    if (!sameRelation(catalog, e.seq, seq)) continue;
    const kind = settingBefore(e.stmt, 'bdr.default_sequence_kind').value ?? 'distributed';
    if (kind === 'distributed' || kind === 'galloc') {
      return `it is an integer sequence created with bdr.default_sequence_kind = '${kind}', which makes it a galloc sequence`;
    }
  }
  return undefined;
}

/** The statement that created `seq` as an integer (smallint / integer) sequence, when the run did. */
export function intSequenceCreatedBy(model: RunModel, catalog: Catalog, stmt: Stmt, seq: QualifiedName): Stmt | undefined {
  let found: Stmt | undefined;
  for (const e of factsOfRun(model).intSequences) {
    if (e.id >= stmt.id) break;
    if (sameRelation(catalog, e.seq, seq)) found = e.stmt;
  }
  return found;
}

/** The bdr.alter_sequence_set_kind() calls of a statement: the sequence (as written) and the kind. */
export function setKindCalls(stmt: Stmt): Array<{ seq: QualifiedName; written: string; kind: string }> {
  const out: Array<{ seq: QualifiedName; written: string; kind: string }> = [];
  if (stmt.type !== 'SelectStmt' || !stmt.node) return out;
  walk(stmt.node, (type, v) => {
    if (type !== 'FuncCall' || funcName(v) !== 'bdr.alter_sequence_set_kind') return undefined;
    const seq = stringArg(v, 0, 'seqoid');
    const kind = stringArg(v, 1, 'seqkind');
    const q = seq !== undefined ? parseRegclass(seq) : undefined;
    if (q && seq !== undefined && kind) out.push({ seq: q, written: seq, kind: kind.toLowerCase() });
    return undefined;
  });
  return out;
}

/** The replica identity a table has at `stmt` as far as the run says: f, d, n, i or undefined. */
export function replicaIdentityAt(model: RunModel, catalog: Catalog, stmt: Stmt, table: QualifiedName): string | undefined {
  let type: string | undefined;
  for (const e of factsOfRun(model).replicaIdentity) {
    if (e.id >= stmt.id) break;
    if (sameRelation(catalog, e.table, table)) type = e.type;
  }
  return type;
}

/** The index of the table's REPLICA IDENTITY USING INDEX at `stmt`, as far as the run says. */
export function replicaIdentityIndexAt(model: RunModel, catalog: Catalog, stmt: Stmt, table: QualifiedName): string | undefined {
  let index: string | undefined;
  for (const e of factsOfRun(model).replicaIdentity) {
    if (e.id >= stmt.id) break;
    if (sameRelation(catalog, e.table, table)) index = e.type === 'i' ? e.index : undefined;
  }
  return index;
}

/** The key columns of a named index of `table` that the run created before `stmt` (undefined when unknown). */
export function indexColumnsAt(model: RunModel, catalog: Catalog, stmt: Stmt, table: QualifiedName, index: string): string[] | undefined {
  let columns: string[] | undefined;
  for (const e of factsOfRun(model).indexes) {
    if (e.id >= stmt.id) break;
    if (e.name === index && sameRelation(catalog, e.table, table)) columns = e.columns;
  }
  return columns;
}

/**
 * BDR 1: the sequence is a global sequence at `stmt` because the run created it while
 * `default_sequenceam = 'bdr'` was in effect (spec §7.4; serial columns too). An explicit USING
 * decides on its own.
 */
export function globalByDefaultAm(model: RunModel, catalog: Catalog, stmt: Stmt, seq: QualifiedName): Stmt | undefined {
  let found: Stmt | undefined;
  for (const e of factsOfRun(model).sequences) {
    if (e.id >= stmt.id) break;
    if (!sameRelation(catalog, e.seq, seq)) continue;
    const am = e.using ?? settingBefore(e.stmt, 'default_sequenceam').value;
    found = am === 'bdr' ? e.stmt : undefined;
  }
  return found;
}

/** The galloc sequences the run put in a schema, as known at `stmt`. */
export function gallocSequencesInSchema(model: RunModel, catalog: Catalog, stmt: Stmt, schema: string, target: Target): QualifiedName[] {
  const facts = factsOfRun(model);
  const seen = new Map<string, QualifiedName>();
  for (const e of [...facts.sequenceKind.map((x) => ({ id: x.id, seq: x.seq })), ...facts.intSequences]) {
    if (e.id >= stmt.id) continue;
    const s = e.seq.schema ?? catalog.creationSchema(e.seq);
    if (s !== schema) continue;
    seen.set(`${s}.${e.seq.name}`, { schema: s, name: e.seq.name });
  }
  return [...seen.values()].filter((q) => gallocReason(model, catalog, stmt, q, target) !== undefined);
}
