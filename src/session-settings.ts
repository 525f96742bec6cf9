/**
 * Settings (GUCs) a migration sets in its own session, tracked the way PostgreSQL applies them:
 * `SET` / `SET SESSION` lasts for the session (one session per file is the linter's assumption)
 * unless the transaction that ran it rolls back; `SET LOCAL` (and `set_config(..., true)`) lasts
 * until the end of its transaction and does nothing outside a transaction block; `RESET`,
 * `SET ... TO DEFAULT`, `RESET ALL` and `DISCARD ALL` return to the server's default.
 *
 * Used by rules that depend on a setting being in effect at a statement
 * (require-ddl-locking-permit: `bdr.permit_ddl_locking`; require-global-sequence:
 * `default_sequenceam`, `bdr.default_sequence_kind`). A rule feeds every statement to
 * `observe` (from its `statement` hook, after reading the value) and every transaction end to
 * `endTransaction` (from its `transaction` hook).
 */
import { AstValue, as, constString, names, strVal, walk } from './ast';
import type { FileModel, RunModel, Stmt, Transaction } from './model';

/** One change a statement makes to a setting. */
export interface SettingChange {
  /** Lower-case setting name. */
  name: string;
  /** New value (lower case), or undefined for the server default (RESET, SET ... TO DEFAULT). */
  value: string | undefined;
  local: boolean;
  /** RESET ALL / DISCARD ALL: every setting returns to its default. */
  all?: boolean;
}

/** Where a value in effect came from. */
export interface SettingValue {
  value: string | undefined;
  /** The statement that set it (undefined: the server default). */
  by?: Stmt;
  local: boolean;
}

/** The setting changes one statement makes (SET, RESET, set_config(), DISCARD ALL). */
export function settingChanges(stmt: Stmt): SettingChange[] {
  const f = stmt.f;
  if (stmt.type === 'VariableSetStmt') {
    const name = String(f.name ?? '').toLowerCase();
    const local = !!f.is_local;
    switch (f.kind) {
      case 'VAR_SET_VALUE':
        return [{ name, value: (f.args ?? []).map((a: AstValue) => (strVal(a) ?? '').toLowerCase()).join(', '), local }];
      case 'VAR_SET_DEFAULT':
      case 'VAR_RESET':
        return [{ name, value: undefined, local }];
      case 'VAR_RESET_ALL':
        return [{ name: '', value: undefined, local: false, all: true }];
      default:
        return [];
    }
  }
  if (stmt.type === 'DiscardStmt' && f.target === 'DISCARD_ALL') return [{ name: '', value: undefined, local: false, all: true }];
  if (stmt.type !== 'SelectStmt' || !stmt.node) return [];
  const out: SettingChange[] = [];
  walk(stmt.node, (t, v) => {
    if (t !== 'FuncCall') return undefined;
    const fn = names(v.funcname);
    if (fn[fn.length - 1] !== 'set_config' || (fn.length > 1 && fn[0] !== 'pg_catalog')) return undefined;
    const [n, val, isLocal] = v.args ?? [];
    const name = constArg(n);
    const value = constArg(val);
    const local = constArg(isLocal);
    if (name === undefined || value === undefined) return undefined;
    out.push({ name: name.toLowerCase(), value: value.toLowerCase(), local: parseBool(local ?? 'false') === true });
    return undefined;
  });
  return out;
}

/** The string of a constant argument (a literal, possibly cast), if it is one. */
function constArg(node: AstValue): string | undefined {
  const c = as(node, 'A_Const');
  if (c) return constString(c);
  const cast = as(node, 'TypeCast');
  if (cast) return constArg(cast.arg);
  return undefined;
}

/**
 * PostgreSQL's boolean parsing of a setting value (parse_bool): true, yes, on, 1 and their
 * unique prefixes; undefined when the text is not a boolean.
 */
export function parseBool(text: string | undefined): boolean | undefined {
  if (text === undefined) return undefined;
  const v = text.trim().toLowerCase();
  if (v === '') return undefined;
  const prefixOf = (word: string): boolean => word.startsWith(v);
  if (v === '1') return true;
  if (v === '0') return false;
  if (prefixOf('true') || prefixOf('yes')) return true;
  if (prefixOf('false') || prefixOf('no')) return false;
  if (v.length >= 2 && prefixOf('on')) return true;
  if (v.length >= 2 && prefixOf('off')) return false;
  return undefined;
}

interface FileState {
  session: Map<string, SettingValue>;
  /** Settings of the current transaction: its SET LOCALs, and the session values to restore on ROLLBACK. */
  tx?: Transaction;
  local: Map<string, SettingValue>;
  sessionAtTxStart?: Map<string, SettingValue>;
  /** The last SET LOCAL of each setting that ran outside a transaction block (and did nothing). */
  ignored: Map<string, Stmt>;
}

/** Tracks the settings of every file's session through one run. */
export class SessionSettings {
  private readonly runs = new WeakMap<RunModel, WeakMap<FileModel, FileState>>();

  private state(model: RunModel, file: FileModel): FileState {
    let files = this.runs.get(model);
    if (!files) {
      files = new WeakMap();
      this.runs.set(model, files);
    }
    let s = files.get(file);
    if (!s) {
      s = { session: new Map(), local: new Map(), ignored: new Map() };
      files.set(file, s);
    }
    return s;
  }

  /** Starts tracking a statement's transaction if it is a new one. */
  private enter(s: FileState, tx: Transaction): void {
    if (s.tx === tx) return;
    s.tx = tx;
    s.local = new Map();
    s.sessionAtTxStart = new Map(s.session);
  }

  /** The value in effect just before `stmt` runs (undefined value: the server default). */
  get(model: RunModel, stmt: Stmt, name: string): SettingValue {
    if (stmt.tx.kind === 'remote') return { value: undefined, local: false };
    const s = this.state(model, stmt.file);
    const key = name.toLowerCase();
    if (s.tx === stmt.tx && s.local.has(key)) return s.local.get(key)!;
    return s.session.get(key) ?? { value: undefined, local: false };
  }

  /** The last SET LOCAL of a setting before `stmt` in its file that ran outside a transaction block. */
  ignoredLocal(model: RunModel, stmt: Stmt, name: string): Stmt | undefined {
    const by = this.state(model, stmt.file).ignored.get(name.toLowerCase());
    return by && by.start < stmt.start ? by : undefined;
  }

  /** Applies the setting changes of a statement (call after reading values for it). */
  observe(model: RunModel, stmt: Stmt): void {
    // bdr.run_on_* runs its SQL over other connections: this session is not changed.
    if (stmt.tx.kind === 'remote' || !stmt.executed) return;
    const changes = settingChanges(stmt);
    if (changes.length === 0) return;
    const s = this.state(model, stmt.file);
    this.enter(s, stmt.tx);
    // SET LOCAL outside a transaction block only warns (a DO block runs in its statement's transaction).
    const inBlock = stmt.tx.block || !!stmt.parent;
    for (const c of changes) {
      if (c.all) {
        s.session.clear();
        s.local.clear();
        continue;
      }
      const v: SettingValue = { value: c.value, by: stmt, local: c.local };
      if (c.local) {
        if (inBlock) s.local.set(c.name, v);
        else s.ignored.set(c.name, stmt);
      } else {
        s.session.set(c.name, v);
        s.local.delete(c.name);
      }
    }
  }

  /** Ends a transaction: SET LOCAL values end, and a ROLLBACK undoes its session-level SETs. */
  endTransaction(model: RunModel, tx: Transaction): void {
    if (tx.kind === 'remote') return;
    const s = this.state(model, tx.file);
    // An ignored SET LOCAL is worth mentioning only for the transaction right after it.
    for (const [name, by] of s.ignored) if (by.tx !== tx) s.ignored.delete(name);
    if (s.tx !== tx) return;
    const last = tx.statements[tx.statements.length - 1];
    const rolledBack = last?.type === 'TransactionStmt' && (last.f.kind === 'TRANS_STMT_ROLLBACK' || last.f.kind === 'TRANS_STMT_ROLLBACK_PREPARED');
    if (rolledBack && s.sessionAtTxStart) s.session = s.sessionAtTxStart;
    s.tx = undefined;
    s.local = new Map();
    s.sessionAtTxStart = undefined;
  }
}
