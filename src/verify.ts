/**
 * --verify: proves a rewrite equivalent. The run's migrations are replayed into two fresh
 * databases, one with the original files and one with the fixed sequence (new files included),
 * and the resulting schemas are compared: tables, columns (type, default, nullability),
 * constraints (definition and validity), indexes (definition, uniqueness, validity), enum values,
 * and the data the migrations leave behind in counts: rows per table, NULLs per column.
 * BDR functions are stubbed; SQL inside bdr.run_on_all_nodes(...) runs directly. Differences a
 * rewrite makes on purpose and that keep the behaviour (a narrowed type enforced by a CHECK, an
 * equality EXCLUDE written as UNIQUE, BDR 1's unique index instead of a constraint) are reported
 * apart, as equivalences.
 */
import { as, names, walk } from './ast';
import type { FileModel, Stmt, Transaction } from './model';
import { deparse } from './sqlgen';
import type { Target } from './targets';

/** A database to replay into: one session, statements run one at a time. */
export interface Database {
  exec(sql: string): Promise<void>;
  query<T = Record<string, unknown>>(sql: string): Promise<T[]>;
  close(): Promise<void>;
}

/** Creates empty databases. */
export interface DatabaseFactory {
  name: string;
  create(): Promise<Database>;
  dispose(): Promise<void>;
}

/** SQL that empties a database of everything the migrations created. */
const RESET = `
DO $reset$ DECLARE s text; BEGIN
  FOR s IN SELECT nspname FROM pg_namespace WHERE nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
             AND nspname NOT LIKE 'pg_temp%' AND nspname NOT LIKE 'pg_toast_temp%' LOOP
    EXECUTE format('DROP SCHEMA %I CASCADE', s);
  END LOOP;
  CREATE SCHEMA public;
END $reset$;
RESET ALL;
`;

/**
 * An embedded PostgreSQL (PGlite): no server to install. Instances are kept and emptied between
 * uses, because starting one takes seconds.
 */
export function pgliteFactory(): DatabaseFactory {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { PGlite } = require('@electric-sql/pglite') as typeof import('@electric-sql/pglite');
  type Instance = InstanceType<typeof PGlite>;
  const idle: Instance[] = [];
  const all: Instance[] = [];
  return {
    name: 'PGlite (embedded PostgreSQL)',
    async create() {
      let db = idle.pop();
      if (db) {
        await db.exec('ROLLBACK').catch(() => undefined);
        await db.exec(RESET);
      } else {
        db = new PGlite();
        await db.waitReady;
        all.push(db);
      }
      const inst = db;
      let released = false;
      return {
        exec: async (sql) => {
          await inst.exec(sql);
        },
        query: async <T>(sql: string) => (await inst.query<T>(sql)).rows,
        close: async () => {
          if (!released) idle.push(inst);
          released = true;
        },
      };
    },
    async dispose() {
      for (const db of all) if (!db.closed) await db.close().catch(() => undefined);
    },
  };
}

export const BDR_STUBS = `
CREATE SCHEMA IF NOT EXISTS bdr;
CREATE OR REPLACE FUNCTION bdr.global_lock_table(regclass) RETURNS void LANGUAGE sql AS 'SELECT NULL::void';
CREATE OR REPLACE FUNCTION bdr.wait_slot_confirm_lsn(text, text) RETURNS void LANGUAGE sql AS 'SELECT NULL::void';
CREATE OR REPLACE FUNCTION bdr.wait_for_xid_progress(text, text) RETURNS void LANGUAGE sql AS 'SELECT NULL::void';
CREATE OR REPLACE FUNCTION bdr.alter_sequence_set_kind(regclass, text) RETURNS void LANGUAGE sql AS 'SELECT NULL::void';
CREATE OR REPLACE FUNCTION bdr.alter_sequence_set_kind(regclass, text, bigint) RETURNS void LANGUAGE sql AS 'SELECT NULL::void';
CREATE OR REPLACE FUNCTION bdr.run_on_all_nodes(text) RETURNS jsonb LANGUAGE plpgsql AS $f$ BEGIN EXECUTE $1; RETURN '[]'::jsonb; END $f$;
CREATE OR REPLACE FUNCTION bdr.replicate_ddl_command(text) RETURNS text LANGUAGE plpgsql AS $f$ BEGIN EXECUTE $1; RETURN 'ok'; END $f$;
CREATE OR REPLACE FUNCTION bdr.replicate_ddl_command(text, text[]) RETURNS text LANGUAGE plpgsql AS $f$ BEGIN EXECUTE $1; RETURN 'ok'; END $f$;
CREATE OR REPLACE FUNCTION bdr.replicate_ddl_command(text, text[], text) RETURNS text LANGUAGE plpgsql AS $f$ BEGIN EXECUTE $1; RETURN 'ok'; END $f$;
CREATE OR REPLACE FUNCTION bdr.bdr_replicate_ddl_command(text) RETURNS void LANGUAGE plpgsql AS $f$ BEGIN EXECUTE $1; END $f$;
`;

/** Calls whose SQL argument the replay runs directly (the stubs above cannot run CONCURRENTLY inside a function). */
const SQL_CALLS = new Set(['run_on_all_nodes', 'run_on_nodes', 'run_on_group', 'replicate_ddl_command', 'bdr_replicate_ddl_command']);

/** Settings only BDR / PGD servers know, which plain PostgreSQL rejects; they do not change the schema. */
const BDR_ONLY_SETTINGS = new Set(['default_sequenceam']);

/**
 * The SQL to run for one top-level statement, or none:
 * - `SELECT bdr.run_on_all_nodes('...')` and the other SQL-running calls: the SQL they carry;
 * - BDR 1 syntax the PostgreSQL grammar lacks (`CREATE / ALTER SEQUENCE ... USING bdr`, `WITH OIDS`):
 *   the statement as parsed, without it (nothing for an ALTER SEQUENCE that only had USING);
 * - SET / RESET of a BDR-only setting (`default_sequenceam`): nothing.
 */
export function replaySql(file: FileModel, stmt: Stmt): { sqls: string[]; remote: boolean } {
  if (stmt.type === 'VariableSetStmt' && BDR_ONLY_SETTINGS.has(String(stmt.f.name ?? '').toLowerCase())) return { sqls: [], remote: false };
  if (stmt.type === 'SelectStmt' && stmt.node) {
    const calls: string[] = [];
    walk(stmt.node, (t, v) => {
      if (t !== 'FuncCall') return undefined;
      const fname = names(v.funcname);
      if (!SQL_CALLS.has(fname[fname.length - 1]) || (fname.length > 1 && fname[0] !== 'bdr')) return undefined;
      const c = as(v.args?.[0], 'A_Const');
      if (typeof c?.sval?.sval === 'string') calls.push(c.sval.sval);
      return false;
    });
    if (calls.length > 0) return { sqls: calls, remote: true };
  }
  if ((stmt.legacy.sequenceUsing || stmt.legacy.withOids) && stmt.node) {
    // ALTER SEQUENCE s USING bdr alone changes nothing plain PostgreSQL has: nothing to run.
    if (stmt.type === 'AlterSeqStmt' && !(stmt.f.options ?? []).length) return { sqls: [], remote: false };
    return { sqls: [deparse(stmt.node)], remote: false };
  }
  return { sqls: [file.source.text.slice(stmt.start, stmt.end)], remote: false };
}

/**
 * How a replay runs the files:
 * - `intent`: statement by statement, with the transactions the files write themselves (BEGIN ...
 *   COMMIT) but without the runner's: what the original migrations mean to do, even when the runner
 *   would reject them (a CONCURRENTLY statement inside the runner's transaction);
 * - `runner`: the way the runner runs them: its transaction around each wrapped section, and a
 *   single-query section sent as one query (one implicit transaction block).
 */
export type ReplayMode = 'intent' | 'runner';

interface Batch {
  sql: string;
  at: Stmt;
}

/** The queries a file sends, in order, with the runner's BEGIN / COMMIT around wrapped sections. */
function batches(file: FileModel, mode: ReplayMode): Batch[] {
  const out: Batch[] = [];
  const top = file.statements.filter((s) => !s.parent && !s.down && !s.error);
  let open: Transaction | undefined;
  const close = (at: Stmt): void => {
    if (!open) return;
    const stmts = open.statements.filter((s) => !s.parent);
    const last = stmts[stmts.length - 1];
    const ended = last && last.type === 'TransactionStmt' && ['TRANS_STMT_COMMIT', 'TRANS_STMT_ROLLBACK'].includes(last.f.kind);
    if (!ended) out.push({ sql: 'COMMIT', at });
    open = undefined;
  };
  let query: { sqls: string[]; at: Stmt; section: unknown } | undefined;
  const flush = (): void => {
    if (query) out.push({ sql: query.sqls.map((q) => `${q};`).join('\n'), at: query.at });
    query = undefined;
  };
  for (const stmt of top) {
    const { sqls, remote } = replaySql(file, stmt);
    if (mode === 'intent') {
      for (const sql of sqls) out.push({ sql, at: stmt });
      continue;
    }
    const section = file.sections.find((s) => stmt.start >= s.start && stmt.start < s.end);
    if (section?.execution === 'single-query' && !remote) {
      if (query && query.section !== section) flush();
      if (!query) query = { sqls: [], at: stmt, section };
      query.sqls.push(...sqls);
      continue;
    }
    flush();
    if (open && open !== stmt.tx) close(stmt);
    if (remote && open) {
      // bdr.run_on_* runs its SQL over connections of its own: it does not wait for this transaction.
      out.push({ sql: 'COMMIT', at: stmt });
      for (const sql of sqls) out.push({ sql, at: stmt });
      out.push({ sql: 'BEGIN', at: stmt });
      continue;
    }
    if (stmt.tx.kind === 'runner' && open !== stmt.tx) {
      open = stmt.tx;
      out.push({ sql: 'BEGIN', at: stmt });
    }
    for (const sql of sqls) out.push({ sql, at: stmt });
  }
  flush();
  if (top.length > 0) close(top[top.length - 1]);
  return out;
}

/** Replays files (already modelled) into a database. */
export async function replay(db: Database, files: FileModel[], mode: ReplayMode = 'intent'): Promise<{ ok: true } | { ok: false; error: string }> {
  await db.exec(BDR_STUBS);
  for (const file of files) {
    for (const b of batches(file, mode)) {
      try {
        await db.exec(b.sql);
      } catch (e) {
        const pos = file.source.position(b.at.start);
        try {
          await db.exec('ROLLBACK');
        } catch {
          /* not in a transaction */
        }
        return { ok: false, error: `${file.path}:${pos.line}:${pos.column}: ${(e as Error).message}` };
      }
    }
  }
  return { ok: true };
}

/** One object of a schema: its comparable value, and what the equivalence checks need. */
export interface SchemaEntry {
  value: string;
  table?: string;
  column?: string;
  type?: string;
  /** Column: its name as PostgreSQL quotes it, and every attribute but the type. */
  rest?: string;
  /** Constraint: p, u, c, f, x; its definition; its index's signature; EXCLUDE with only `=`. */
  contype?: string;
  def?: string;
  valid?: boolean;
  index?: string;
  signature?: string;
  allEquals?: boolean;
  /** Index: unique, valid. */
  unique?: boolean;
}

const USER_SCHEMAS = `n.nspname NOT IN ('pg_catalog', 'information_schema', 'bdr') AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'`;

/** An index's definition without its name: table, method, key columns, INCLUDE columns, predicate. */
const SIGNATURE = (i: string): string => `format('%s USING %s (%s)%s%s', ${i}.indrelid::regclass, (SELECT amname FROM pg_am a JOIN pg_class x ON x.relam = a.oid WHERE x.oid = ${i}.indexrelid),
    (SELECT string_agg(pg_get_indexdef(${i}.indexrelid, k, true), ', ' ORDER BY k) FROM generate_series(1, ${i}.indnkeyatts) k),
    CASE WHEN ${i}.indnatts > ${i}.indnkeyatts THEN format(' INCLUDE (%s)', (SELECT string_agg(pg_get_indexdef(${i}.indexrelid, k, true), ', ' ORDER BY k) FROM generate_series(${i}.indnkeyatts + 1, ${i}.indnatts) k)) ELSE '' END,
    coalesce(' WHERE ' || pg_get_expr(${i}.indpred, ${i}.indrelid), ''))`;

/** The schema as comparable entries, by object. */
export async function snapshot(db: Database): Promise<Map<string, SchemaEntry>> {
  const out = new Map<string, SchemaEntry>();
  type Row = { k: string; v: string } & Record<string, unknown>;
  const rel = await db.query<Row>(`
    SELECT format('relation %I.%I', n.nspname, c.relname) AS k, format('kind=%s persistence=%s', c.relkind, c.relpersistence) AS v
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE ${USER_SCHEMAS} AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')`);
  const cols = await db.query<Row>(`
    SELECT format('column %I.%I.%I', n.nspname, c.relname, a.attname) AS k, format('%I.%I', n.nspname, c.relname) AS tbl, quote_ident(a.attname) AS col,
           format_type(a.atttypid, a.atttypmod) AS typ,
           format('notnull=%s default=%s identity=%s generated=%s', a.attnotnull, coalesce(pg_get_expr(d.adbin, d.adrelid), '-'), a.attidentity, a.attgenerated) AS rest
      FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
     WHERE ${USER_SCHEMAS} AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND a.attnum > 0 AND NOT a.attisdropped`);
  const cons = await db.query<Row>(`
    SELECT format('constraint %I.%I.%I', n.nspname, c.relname, k.conname) AS k, format('%I.%I', n.nspname, c.relname) AS tbl,
           pg_get_constraintdef(k.oid) AS def, k.convalidated AS valid, k.contype::text AS contype,
           CASE WHEN k.conindid <> 0 THEN (SELECT format('index %I.%I', xn.nspname, x.relname) FROM pg_class x JOIN pg_namespace xn ON xn.oid = x.relnamespace WHERE x.oid = k.conindid) END AS idx,
           (SELECT ${SIGNATURE('i')} FROM pg_index i WHERE i.indexrelid = k.conindid) AS sig,
           (SELECT bool_and(o.oprname = '=') FROM pg_operator o WHERE o.oid = ANY (k.conexclop)) AS alleq
      FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE ${USER_SCHEMAS} AND k.contype IN ('c', 'f', 'p', 'u', 'x')`);
  const idx = await db.query<Row>(`
    SELECT format('index %I.%I', n.nspname, ic.relname) AS k, format('%s unique=%s valid=%s', pg_get_indexdef(i.indexrelid), i.indisunique, i.indisvalid) AS v,
           ${SIGNATURE('i')} AS sig, i.indisunique AS uniq, i.indisvalid AS valid
      FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_namespace n ON n.oid = ic.relnamespace
     WHERE ${USER_SCHEMAS}`);
  const enums = await db.query<Row>(`
    SELECT format('type %I.%I', n.nspname, t.typname) AS k, string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder) AS v
      FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace JOIN pg_enum e ON e.enumtypid = t.oid
     WHERE ${USER_SCHEMAS} GROUP BY n.nspname, t.typname`);
  // The data the migrations leave: rows per table and NULLs per column (a backfill that missed rows shows here).
  const counts = new Map<string, string>();
  const tables = await db.query<{ tbl: string; k: string }>(`
    SELECT format('%I.%I', n.nspname, c.relname) AS tbl, format('relation %I.%I', n.nspname, c.relname) AS k
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE ${USER_SCHEMAS} AND c.relkind IN ('r', 'p')`);
  for (const t of tables) {
    const tcols = cols.filter((c) => c.tbl === t.tbl);
    const list = [`count(*) AS "rows"`, ...tcols.map((c, i) => `count(*) - count(${String(c.col)}) AS "n${i}"`)];
    const [row] = await db.query<Record<string, unknown>>(`SELECT ${list.join(', ')} FROM ${t.tbl}`);
    counts.set(t.k, ` rows=${row.rows}`);
    tcols.forEach((c, i) => counts.set(c.k, ` nulls=${row[`n${i}`]}`));
  }
  for (const r of [...rel, ...enums]) out.set(r.k, { value: r.v + (counts.get(r.k) ?? '') });
  for (const r of cols) {
    const rest = `${r.rest}${counts.get(r.k) ?? ''}`;
    out.set(r.k, { value: `type=${r.typ} ${rest}`, table: String(r.tbl), column: String(r.col), type: String(r.typ), rest });
  }
  for (const r of cons) {
    out.set(r.k, {
      value: `${r.def} valid=${r.valid ? 't' : 'f'}`,
      table: String(r.tbl),
      contype: String(r.contype),
      def: String(r.def),
      valid: !!r.valid,
      index: (r.idx as string | null) ?? undefined,
      signature: (r.sig as string | null) ?? undefined,
      allEquals: r.alleq === true,
    });
  }
  for (const r of idx) out.set(r.k, { value: r.v, signature: String(r.sig), unique: !!r.uniq, valid: !!r.valid });
  return out;
}

export interface Difference {
  object: string;
  original?: string;
  fixed?: string;
}

/** A difference the rewrite makes on purpose, with the reason it is equivalent. */
export interface Equivalence extends Difference {
  reason: string;
}

/** Every difference between two snapshots, by object. */
function rawDifferences(a: Map<string, SchemaEntry>, b: Map<string, SchemaEntry>): Difference[] {
  const diffs: Difference[] = [];
  for (const [k, v] of a) {
    const w = b.get(k);
    if (!w) diffs.push({ object: k, original: v.value });
    else if (w.value !== v.value) diffs.push({ object: k, original: v.value, fixed: w.value });
  }
  for (const [k, v] of b) if (!a.has(k)) diffs.push({ object: k, fixed: v.value });
  return diffs.sort((x, y) => (x.object < y.object ? -1 : x.object > y.object ? 1 : 0));
}

const TEXT_TYPES = new Set(['text', 'character varying']);

function baseType(t: string): string {
  return t.replace(/\(.*\)$/, '').replace(/\(.*\)(\[\])$/, '$1');
}

/**
 * Splits the differences into real ones and the rewrites' deliberate, equivalent ones:
 * - a NOT VALID constraint that the rewrite validates;
 * - a narrowed column type kept wider (or without its length) and enforced by a validated CHECK on
 *   that column (spec §5.3a);
 * - an EXCLUDE constraint whose operators are all `=` written as the UNIQUE constraint over the same
 *   index definition (no-exclusion-constraint);
 * - on BDR 1, a PRIMARY KEY / UNIQUE / equality EXCLUDE constraint kept as a unique index with the
 *   same definition, because BDR 1 rejects ADD CONSTRAINT ... USING INDEX (spec §7.4).
 */
export function compare(a: Map<string, SchemaEntry>, b: Map<string, SchemaEntry>, opts: { target?: Target } = {}): { differences: Difference[]; equivalences: Equivalence[] } {
  const diffs = rawDifferences(a, b);
  const byObject = new Map(diffs.map((d) => [d.object, d]));
  const explained = new Map<string, string>();
  const explain = (keys: Array<string | undefined>, reason: string): void => {
    for (const k of keys) if (k && byObject.has(k) && !explained.has(k)) explained.set(k, reason);
  };

  // Narrowing replaced by a CHECK.
  for (const d of diffs) {
    const o = a.get(d.object);
    const f = b.get(d.object);
    if (!o?.column || !f?.column || o.rest !== f.rest || o.type === f.type) continue;
    const ob = baseType(o.type!);
    const fb = baseType(f.type!);
    if (ob === o.type || !(ob === fb || (TEXT_TYPES.has(ob) && TEXT_TYPES.has(fb)))) continue;
    const col = o.column;
    const check = [...b].find(([k, e]) => e.contype === 'c' && e.valid && e.table === o.table && !a.has(k) && new RegExp(`(^|[^\\w"])${escapeRe(col)}([^\\w"]|$)`).test(e.def ?? ''));
    if (!check) continue;
    explain([d.object, check[0]], `the type ${o.type} is kept as ${f.type} and its limit enforced by the validated CHECK ${check[0].split('.').pop()} (spec §5.3a)`);
  }

  // A NOT VALID constraint the rewrite validated: every existing row was checked and satisfies it.
  for (const d of diffs) {
    const o = a.get(d.object);
    const f = b.get(d.object);
    if (o?.contype && f?.contype && o.def?.replace(/ NOT VALID$/, '') === f.def && !o.valid && f.valid) explain([d.object], 'the rewrite validates this NOT VALID constraint: every existing row satisfies it');
  }

  // EXCLUDE (... WITH =) as UNIQUE; on BDR 1, constraints kept as their unique index.
  const bdr1 = opts.target?.family === 'bdr1';
  for (const [k, o] of a) {
    if (!o.signature || !(o.contype === 'x' ? o.allEquals : bdr1 && (o.contype === 'p' || o.contype === 'u'))) continue;
    const same = b.get(k);
    if (same && same.value === o.value) continue;
    const asUnique = [...b].find(([, e]) => e.contype === 'u' && e.signature === o.signature);
    if (asUnique && o.contype === 'x') {
      explain([k, o.index, asUnique[0], asUnique[1].index], `the EXCLUDE constraint, whose operators are all =, is the UNIQUE constraint ${asUnique[0].split('.').pop()} on the same columns`);
      continue;
    }
    if (!bdr1) continue;
    const asIndex = [...b].find(([ik, e]) => ik.startsWith('index ') && e.unique && e.valid && e.signature === o.signature);
    if (asIndex) {
      explain([k, o.index, asIndex[0]], `BDR 1 rejects ADD CONSTRAINT ... USING INDEX (spec §7.4): the unique index ${asIndex[0].split('.').pop()} enforces the same rule`);
    }
  }

  return {
    differences: diffs.filter((d) => !explained.has(d.object)),
    equivalences: diffs.filter((d) => explained.has(d.object)).map((d) => ({ ...d, reason: explained.get(d.object)! })),
  };
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export interface VerifyResult {
  database: string;
  differences: Difference[];
  /** Deliberate differences of the rewrite that give the same behaviour (see `compare`). */
  equivalences: Equivalence[];
  /** Set when a sequence could not be replayed at all. */
  error?: string;
}

/**
 * Replays the original and the fixed runs into fresh databases and compares their schemas. The
 * original is replayed for what it means to do (`intent`: the runner's transaction is left out, so a
 * statement the runner would reject still shows its effect); the fixed run the way its runner runs
 * it, so the rewrite is proven to run, not only to mean the same.
 */
export async function verify(factory: DatabaseFactory, original: FileModel[], fixed: FileModel[], opts: { target?: Target } = {}): Promise<VerifyResult> {
  const a = await factory.create();
  const b = await factory.create();
  try {
    const ra = await replay(a, original, 'intent');
    if (!ra.ok) return { database: factory.name, differences: [], equivalences: [], error: `the original migrations do not run: ${ra.error}` };
    const rb = await replay(b, fixed, 'runner');
    if (!rb.ok) return { database: factory.name, differences: [], equivalences: [], error: `the fixed migrations do not run: ${rb.error}` };
    const { differences, equivalences } = compare(await snapshot(a), await snapshot(b), opts);
    return { database: factory.name, differences, equivalences };
  } finally {
    await a.close();
    await b.close();
  }
}
