/**
 * --verify: proves a rewrite equivalent. The run's migrations are replayed into two fresh
 * databases, one with the original files and one with the fixed sequence (new files included),
 * and the resulting schemas are compared: tables, columns (type, default, nullability),
 * constraints (definition and validity), indexes (definition, uniqueness, validity), enum values.
 * BDR functions are stubbed; SQL inside bdr.run_on_all_nodes(...) runs directly.
 */
import type { FileModel, Stmt } from './model';

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

/** The SQL to run for one top-level statement: bdr.run_on_* calls run their SQL directly. */
function executable(file: FileModel, stmt: Stmt): string[] {
  const children = file.statements.filter((s) => s.parent === stmt && s.executed && (s.via?.startsWith('run_on_') || s.via?.includes('replicate_ddl_command')));
  if (children.length > 0 && stmt.type === 'SelectStmt') {
    return children.map((c) => file.source.text.slice(c.start, c.end)).map((sql) => unquoteEmbedded(sql));
  }
  return [file.source.text.slice(stmt.start, stmt.end)];
}

/** Embedded SQL as it is in the file: inside '...' quotes, '' stands for '. */
function unquoteEmbedded(sql: string): string {
  return sql;
}

/** Replays files (already modelled) into a database, statement by statement. */
export async function replay(db: Database, files: FileModel[]): Promise<{ ok: true } | { ok: false; error: string }> {
  await db.exec(BDR_STUBS);
  for (const file of files) {
    for (const stmt of file.statements) {
      if (stmt.parent || stmt.down || stmt.error) continue;
      for (const sql of executable(file, stmt)) {
        try {
          await db.exec(sql);
        } catch (e) {
          const pos = file.source.position(stmt.start);
          try {
            await db.exec('ROLLBACK');
          } catch {
            /* not in a transaction */
          }
          return { ok: false, error: `${file.path}:${pos.line}:${pos.column}: ${(e as Error).message}` };
        }
      }
    }
  }
  return { ok: true };
}

export interface SchemaObject {
  key: string;
  value: string;
}

const USER_SCHEMAS = `n.nspname NOT IN ('pg_catalog', 'information_schema', 'bdr') AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'`;

/** The schema as comparable (key, value) pairs. */
export async function snapshot(db: Database): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const rel = await db.query<{ k: string; v: string }>(`
    SELECT format('relation %I.%I', n.nspname, c.relname) AS k, format('kind=%s persistence=%s', c.relkind, c.relpersistence) AS v
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE ${USER_SCHEMAS} AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')`);
  const cols = await db.query<{ k: string; v: string }>(`
    SELECT format('column %I.%I.%I', n.nspname, c.relname, a.attname) AS k,
           format('type=%s notnull=%s default=%s identity=%s generated=%s', format_type(a.atttypid, a.atttypmod), a.attnotnull,
                  coalesce(pg_get_expr(d.adbin, d.adrelid), '-'), a.attidentity, a.attgenerated) AS v
      FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
     WHERE ${USER_SCHEMAS} AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND a.attnum > 0 AND NOT a.attisdropped`);
  const cons = await db.query<{ k: string; v: string }>(`
    SELECT format('constraint %I.%I.%I', n.nspname, c.relname, k.conname) AS k,
           format('%s valid=%s', pg_get_constraintdef(k.oid), k.convalidated) AS v
      FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE ${USER_SCHEMAS} AND k.contype IN ('c', 'f', 'p', 'u', 'x')`);
  const idx = await db.query<{ k: string; v: string }>(`
    SELECT format('index %I.%I', n.nspname, ic.relname) AS k,
           format('%s unique=%s valid=%s', pg_get_indexdef(i.indexrelid), i.indisunique, i.indisvalid) AS v
      FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_namespace n ON n.oid = ic.relnamespace
     WHERE ${USER_SCHEMAS}`);
  const enums = await db.query<{ k: string; v: string }>(`
    SELECT format('type %I.%I', n.nspname, t.typname) AS k, string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder) AS v
      FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace JOIN pg_enum e ON e.enumtypid = t.oid
     WHERE ${USER_SCHEMAS} GROUP BY n.nspname, t.typname`);
  for (const r of [...rel, ...cols, ...cons, ...idx, ...enums]) out.set(r.k, r.v);
  return out;
}

export interface Difference {
  object: string;
  original?: string;
  fixed?: string;
}

export function compare(a: Map<string, string>, b: Map<string, string>): Difference[] {
  const diffs: Difference[] = [];
  for (const [k, v] of a) {
    if (!b.has(k)) diffs.push({ object: k, original: v });
    else if (b.get(k) !== v) diffs.push({ object: k, original: v, fixed: b.get(k) });
  }
  for (const [k, v] of b) if (!a.has(k)) diffs.push({ object: k, fixed: v });
  return diffs.sort((x, y) => (x.object < y.object ? -1 : 1));
}

export interface VerifyResult {
  database: string;
  differences: Difference[];
  /** Set when a sequence could not be replayed at all. */
  error?: string;
}

/** Replays the original and the fixed runs into fresh databases and compares their schemas. */
export async function verify(factory: DatabaseFactory, original: FileModel[], fixed: FileModel[]): Promise<VerifyResult> {
  const a = await factory.create();
  const b = await factory.create();
  try {
    const ra = await replay(a, original);
    if (!ra.ok) return { database: factory.name, differences: [], error: `the original migrations do not run: ${ra.error}` };
    const rb = await replay(b, fixed);
    if (!rb.ok) return { database: factory.name, differences: [], error: `the fixed migrations do not run: ${rb.error}` };
    return { database: factory.name, differences: compare(await snapshot(a), await snapshot(b)) };
  } finally {
    await a.close();
    await b.close();
  }
}
