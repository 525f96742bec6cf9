/**
 * The catalog: what the statements replayed so far have created, and what it looks like.
 * It is built by replaying every statement of the run in order. Each change records how to undo
 * it, so ROLLBACK and ROLLBACK TO SAVEPOINT put the catalog back as PostgreSQL would.
 *
 * Names are as PostgreSQL stores them: libpg-query has already folded unquoted identifiers to
 * lower case and kept quoted ones as written. An object the migrations never created is unknown.
 */
import { AstNode, AstValue, QualifiedName, as, fields, listName, names, nodeType, rangeVarName, strVal, typeMods, typeNameString } from './ast';

export type Persistence = 'permanent' | 'unlogged' | 'temp';
export type Volatility = 'i' | 's' | 'v';

/** Where an object was created: by which statement (opaque to the catalog). */
export interface Origin {
  fileIndex: number;
  txId: number;
  stmtId: number;
}

export interface Column {
  name: string;
  /** PostgreSQL type name without pg_catalog (int4, varchar, timestamptz, my_enum, ...). */
  type: string;
  typmods?: number[];
  isArray: boolean;
  notNull: boolean;
  default?: AstNode;
  identity: boolean;
  generated: boolean;
}

export type ConstraintKind = 'check' | 'foreign' | 'primary' | 'unique' | 'exclude' | 'notnull';

export interface Constraint {
  name: string;
  kind: ConstraintKind;
  validated: boolean;
  columns: string[];
  expr?: AstNode;
  origin: Origin;
}

export interface Table {
  schema: string;
  name: string;
  kind: 'table' | 'view' | 'matview' | 'foreign';
  persistence: Persistence;
  columns: Map<string, Column>;
  constraints: Map<string, Constraint>;
  primaryKey: boolean;
  partitioned: boolean;
  /** Key of the parent for partitions (PARTITION OF) and INHERITS children. */
  parent?: string;
  onCommitDrop: boolean;
  origin: Origin;
}

export interface Index {
  schema: string;
  name: string;
  table: string;
  unique: boolean;
  origin: Origin;
}

export interface Sequence {
  schema: string;
  name: string;
  persistence: Persistence;
  /** BDR 1 `USING bdr`. */
  global: boolean;
  origin: Origin;
}

export interface TypeInfo {
  schema: string;
  name: string;
  kind: 'enum' | 'composite' | 'domain' | 'range' | 'other';
  values: string[];
  origin: Origin;
}

export interface FunctionInfo {
  schema: string;
  name: string;
  volatility: Volatility;
  language: string;
  body?: string;
  origin: Origin;
}

export function key(schema: string, name: string): string {
  return `${schema}.${name}`;
}

type Undo = () => void;

export class Catalog {
  searchPath: string[] = ['public'];
  readonly tables = new Map<string, Table>();
  readonly indexes = new Map<string, Index>();
  readonly sequences = new Map<string, Sequence>();
  readonly types = new Map<string, TypeInfo>();
  readonly functions = new Map<string, FunctionInfo>();
  readonly schemas = new Set<string>(['public']);
  /**
   * CHECK constraints the migrations add to tables they did not create (tables of unknown shape),
   * by table key: enough to know later that a CHECK (col IS NOT NULL) was added and validated.
   */
  readonly externalChecks = new Map<string, Map<string, Constraint>>();
  private journal: Undo[] = [];
  /** Tables put under a key, by the transaction id of their origin (see tablesCreatedIn). */
  private readonly tablesByTx = new Map<number, Set<Table>>();
  /** Called after every object put under a key (lint.ts finds new tables with it). */
  onPut?: (map: Map<string, unknown>, k: string, v: unknown) => void;
  /** Keys of the temporary objects put since the session began, by map (some may be gone again). */
  private readonly tempKeys = new Map<Map<string, unknown>, Set<string>>();

  // ---- transactions -------------------------------------------------------------------------

  /** A mark to roll back to (transaction start or savepoint). */
  mark(): number {
    return this.journal.length;
  }

  rollbackTo(mark: number): void {
    while (this.journal.length > mark) this.journal.pop()!();
  }

  /** Forgets undo information (after COMMIT nothing can be rolled back). */
  commit(): void {
    this.journal = [];
  }

  private record(undo: Undo): void {
    this.journal.push(undo);
  }

  private put<T>(map: Map<string, T>, k: string, v: T): void {
    const old = map.get(k);
    map.set(k, v);
    this.record(() => (old === undefined ? map.delete(k) : map.set(k, old)));
    if (map === (this.tables as Map<string, unknown>)) {
      const t = v as unknown as Table;
      let set = this.tablesByTx.get(t.origin.txId);
      if (!set) this.tablesByTx.set(t.origin.txId, (set = new Set()));
      set.add(t);
    }
    if (k.startsWith('pg_temp.')) {
      const m = map as Map<string, unknown>;
      let keys = this.tempKeys.get(m);
      if (!keys) this.tempKeys.set(m, (keys = new Set()));
      keys.add(k);
    }
    this.onPut?.(map as Map<string, unknown>, k, v);
  }

  /**
   * False when the session has no temporary object for sure (none was created since it began):
   * rules that look for references to temporary objects can then skip a statement that does not
   * name pg_temp.
   */
  mayHoldTemporary(): boolean {
    return this.tempKeys.size > 0;
  }

  /** The session ended: its temporary objects are gone. */
  dropTemporary(): void {
    for (const [m, keys] of this.tempKeys) for (const k of keys) m.delete(k);
    this.tempKeys.clear();
  }

  private remove<T>(map: Map<string, T>, k: string): void {
    const old = map.get(k);
    if (old === undefined) return;
    map.delete(k);
    this.record(() => map.set(k, old));
  }

  /** Changes one property of an object, recording the old value. */
  set<T extends object, K extends keyof T>(obj: T, prop: K, value: T[K]): void {
    const old = obj[prop];
    obj[prop] = value;
    this.record(() => {
      obj[prop] = old;
    });
  }

  setSearchPath(path: string[]): void {
    this.set(this as Catalog, 'searchPath', path.length > 0 ? path : ['public']);
  }

  /**
   * The tables created in transaction `txId` (their origin) that are in the catalog now, in the
   * order they were created: what a scan of every table for that origin finds, without the scan.
   */
  tablesCreatedIn(txId: number): Table[] {
    const out: Table[] = [];
    for (const t of this.tablesByTx.get(txId) ?? []) if (this.tables.get(key(t.schema, t.name)) === t) out.push(t);
    return out;
  }

  // ---- lookups ------------------------------------------------------------------------------

  /** Schema in which an unqualified CREATE puts an object. */
  creationSchema(q: QualifiedName, persistence: Persistence = 'permanent'): string {
    if (q.schema) return q.schema === 'pg_temp' || q.schema.startsWith('pg_temp_') ? 'pg_temp' : q.schema;
    if (persistence === 'temp') return 'pg_temp';
    // PostgreSQL creates in the first schema of search_path; pg_temp listed first makes the object
    // temporary (`SET search_path = pg_temp, public; CREATE TABLE t ...` creates a temporary table).
    const first = this.searchPath.find((s) => s !== '$user' && s !== 'pg_catalog');
    if (first === 'pg_temp' || first?.startsWith('pg_temp_')) return 'pg_temp';
    return first ?? 'public';
  }

  /** The persistence of a relation created under `q`: a permanent one created in pg_temp is temporary. */
  private persistenceIn(q: QualifiedName, relpersistence: string | undefined): { schema: string; persistence: Persistence } {
    const declared = persistenceOf(relpersistence);
    const schema = this.creationSchema(q, declared);
    return { schema, persistence: schema === 'pg_temp' ? 'temp' : declared };
  }

  private lookup<T>(map: Map<string, T>, q: QualifiedName, temp: boolean): T | undefined {
    if (q.schema) return map.get(key(q.schema.startsWith('pg_temp') ? 'pg_temp' : q.schema, q.name));
    if (temp) {
      const t = map.get(key('pg_temp', q.name));
      if (t) return t;
    }
    for (const s of this.searchPath) {
      const v = map.get(key(s, q.name));
      if (v) return v;
    }
    return undefined;
  }

  /** The table (or view) a name resolves to, if the migrations created it. */
  table(q: QualifiedName): Table | undefined {
    return this.lookup(this.tables, q, true);
  }

  /** A stable key for a table name, resolved or not. */
  tableKey(q: QualifiedName): string {
    const t = this.table(q);
    return t ? key(t.schema, t.name) : key(this.creationSchema(q), q.name);
  }

  index(q: QualifiedName): Index | undefined {
    return this.lookup(this.indexes, q, true);
  }

  sequence(q: QualifiedName): Sequence | undefined {
    return this.lookup(this.sequences, q, true);
  }

  type(q: QualifiedName): TypeInfo | undefined {
    return this.lookup(this.types, q, false);
  }

  func(q: QualifiedName): FunctionInfo | undefined {
    return this.lookup(this.functions, q, false);
  }

  // ---- replay -------------------------------------------------------------------------------

  /** Applies the effect of one parsed statement. */
  apply(node: AstNode, origin: Origin, extras: { sequenceUsing?: string } = {}): void {
    const type = nodeType(node);
    const f = fields(node);
    switch (type) {
      case 'CreateStmt':
        return this.createTable(f, origin);
      case 'CreateTableAsStmt':
        return this.createTableAs(f, origin);
      case 'SelectStmt':
        // SELECT ... INTO t creates a table like CREATE TABLE t AS SELECT ...
        if (f.intoClause) return this.createTableAs({ into: f.intoClause, objtype: 'OBJECT_TABLE' }, origin);
        return;
      case 'AlterObjectSchemaStmt':
        if (f.objectType === 'OBJECT_TABLE' && f.relation) return this.setTableSchema(f);
        return;
      case 'ViewStmt':
        return this.createView(f.view, 'view', origin, f.replace);
      case 'AlterTableStmt':
        return this.alterTable(f, origin);
      case 'IndexStmt':
        return this.createIndex(f, origin);
      case 'CreateSeqStmt':
        return this.createSequence(f, origin, extras.sequenceUsing);
      case 'AlterSeqStmt': {
        // BDR 1: ALTER SEQUENCE s USING bdr / USING local changes the sequence's kind.
        const s = extras.sequenceUsing !== undefined ? this.sequence(rangeVarName(f.sequence)) : undefined;
        if (s) this.set(s, 'global', extras.sequenceUsing === 'bdr');
        return;
      }
      case 'CreateEnumStmt':
        return this.createType(listName(f.typeName), 'enum', names(f.vals), origin);
      case 'AlterEnumStmt':
        return this.alterEnum(f);
      case 'CompositeTypeStmt':
        return this.createType(rangeVarName(f.typevar), 'composite', [], origin);
      case 'CreateDomainStmt':
        return this.createType(listName(f.domainname), 'domain', [], origin);
      case 'CreateRangeStmt':
        return this.createType(listName(f.typeName), 'range', [], origin);
      case 'CreateFunctionStmt':
        return this.createFunction(f, origin);
      case 'CreateSchemaStmt': {
        // CREATE SCHEMA AUTHORIZATION joe: the schema is named after the role.
        const schemaName: string | undefined = f.schemaname ?? f.authrole?.rolename ?? f.authrole?.RoleSpec?.rolename;
        if (schemaName && !this.schemas.has(schemaName)) {
          this.schemas.add(schemaName);
          this.record(() => this.schemas.delete(schemaName));
        }
        // PostgreSQL creates the elements in the new schema (it puts the schema first in search_path
        // while it runs them).
        const saved = this.searchPath;
        if (schemaName) this.searchPath = [schemaName, ...saved.filter((x) => x !== schemaName)];
        try {
          for (const elt of f.schemaElts ?? []) this.apply(elt, origin);
        } finally {
          this.searchPath = saved;
        }
        return;
      }
      case 'AlterFunctionStmt':
        return this.alterFunction(f);
      case 'DropStmt':
        return this.drop(f);
      case 'RenameStmt':
        return this.rename(f);
      case 'VariableSetStmt':
        if (f.name === 'search_path') {
          if (f.kind === 'VAR_SET_VALUE') this.setSearchPath((f.args ?? []).map((a: AstValue) => strVal(a) ?? ''));
          else if (f.kind === 'VAR_SET_DEFAULT' || f.kind === 'VAR_RESET') this.setSearchPath(['public']);
        }
        return;
      default:
        return;
    }
  }

  private createTable(f: AstValue, origin: Origin): void {
    const q = rangeVarName(f.relation);
    const { schema, persistence } = this.persistenceIn(q, f.relation?.relpersistence);
    const k = key(schema, q.name);
    if (f.if_not_exists && this.tables.has(k)) return;
    const table: Table = {
      schema,
      name: q.name,
      kind: 'table',
      persistence,
      columns: new Map(),
      constraints: new Map(),
      primaryKey: false,
      partitioned: !!f.partspec,
      onCommitDrop: f.oncommit === 'ONCOMMIT_DROP',
      origin,
    };
    const parents: AstValue[] = f.inhRelations ?? [];
    if (parents.length > 0) {
      const parent = this.table(rangeVarName(as(parents[0], 'RangeVar')));
      table.parent = parent ? key(parent.schema, parent.name) : this.tableKey(rangeVarName(as(parents[0], 'RangeVar')));
      for (const p of parents) {
        const pt = this.table(rangeVarName(as(p, 'RangeVar')));
        if (!pt) continue;
        for (const [n, c] of pt.columns) table.columns.set(n, { ...c, default: f.partbound ? c.default : c.default });
        // A partition gets the parent's primary key; an INHERITS child does not.
        if (f.partbound && pt.primaryKey) table.primaryKey = true;
        for (const [n, c] of pt.constraints) if (c.kind === 'check' || (f.partbound && c.kind !== 'foreign')) table.constraints.set(n, c);
      }
    }
    for (const elt of f.tableElts ?? []) {
      const t = nodeType(elt);
      if (t === 'ColumnDef') this.addColumn(table, fields(elt), origin);
      else if (t === 'Constraint') this.addConstraint(table, fields(elt), origin, true);
      else if (t === 'TableLikeClause') this.applyLike(table, fields(elt));
    }
    if (f.ofTypename) {
      const tp = this.type(listName(f.ofTypename.names));
      if (tp?.kind === 'composite') {
        /* columns of the composite type are unknown to the catalog */
      }
    }
    this.put(this.tables, k, table);
  }

  private applyLike(table: Table, like: AstValue): void {
    const src = this.table(rangeVarName(like.relation));
    if (!src) return;
    // CREATE_TABLE_LIKE_* bits (PostgreSQL parsenodes.h): DEFAULTS 1<<3, CONSTRAINTS 1<<2, IDENTITY 1<<5, INDEXES 1<<6.
    const opts: number = like.options ?? 0;
    const defaults = (opts & (1 << 3)) !== 0;
    const constraints = (opts & (1 << 2)) !== 0;
    const identity = (opts & (1 << 5)) !== 0;
    const indexes = (opts & (1 << 6)) !== 0;
    for (const [n, c] of src.columns) {
      table.columns.set(n, {
        ...c,
        default: defaults ? c.default : undefined,
        identity: identity && c.identity,
        // NOT NULL is always copied.
      });
    }
    if (constraints) for (const [n, c] of src.constraints) if (c.kind === 'check') table.constraints.set(n, c);
    if (indexes) {
      if (src.primaryKey) table.primaryKey = true;
      for (const [n, c] of src.constraints) if (c.kind === 'primary' || c.kind === 'unique' || c.kind === 'exclude') table.constraints.set(n, c);
    }
  }

  private addColumn(table: Table, def: AstValue, origin: Origin): Column {
    const typeName = def.typeName;
    const rawType = typeNameString(typeName);
    const serial = SERIAL_TYPES[rawType];
    const col: Column = {
      name: def.colname,
      type: serial ?? rawType,
      typmods: typeMods(typeName),
      isArray: Array.isArray(typeName?.arrayBounds) && typeName.arrayBounds.length > 0,
      notNull: !!serial,
      identity: false,
      generated: false,
    };
    if (serial) col.default = { FuncCall: { funcname: [{ String: { sval: 'nextval' } }], args: [] } };
    if (def.raw_default) col.default = def.raw_default;
    for (const c of def.constraints ?? []) {
      const cf = fields(c);
      switch (cf.contype) {
        case 'CONSTR_NOTNULL':
          col.notNull = true;
          break;
        case 'CONSTR_NULL':
          col.notNull = false;
          break;
        case 'CONSTR_DEFAULT':
          col.default = cf.raw_expr;
          break;
        case 'CONSTR_IDENTITY':
          col.identity = true;
          col.notNull = true;
          break;
        case 'CONSTR_GENERATED':
          col.generated = true;
          break;
        default:
          this.addConstraint(table, { ...cf, keys: cf.keys ?? [{ String: { sval: def.colname } }], fk_attrs: cf.fk_attrs ?? [{ String: { sval: def.colname } }] }, origin, true, def.colname);
      }
    }
    table.columns.set(col.name, col);
    return col;
  }

  /** Adds a table constraint; `inCreate` marks constraints written inside CREATE TABLE. */
  addConstraint(table: Table, c: AstValue, origin: Origin, inCreate: boolean, column?: string): Constraint | undefined {
    const kind = CONSTRAINT_KINDS[c.contype as string];
    if (!kind) return undefined;
    const columns = names(kind === 'foreign' ? c.fk_attrs : c.keys);
    const name = c.conname || defaultConstraintName(table.name, kind, columns, column);
    const con: Constraint = {
      name,
      kind,
      validated: inCreate || !c.skip_validation,
      columns,
      expr: c.raw_expr,
      origin,
    };
    if (kind === 'primary') {
      this.set(table, 'primaryKey', true);
      for (const col of columns) {
        const cd = table.columns.get(col);
        if (cd) this.set(cd, 'notNull', true);
      }
    }
    if (table.constraints.has(name) && !inCreate) return con;
    if (inCreate) table.constraints.set(name, con);
    else this.put(table.constraints, name, con);
    return con;
  }

  private createTableAs(f: AstValue, origin: Origin): void {
    if (f.objtype === 'OBJECT_MATVIEW') return this.createView(f.into?.rel, 'matview', origin, false);
    const rel = f.into?.rel;
    if (!rel) return;
    const q = rangeVarName(rel);
    const { schema, persistence } = this.persistenceIn(q, rel.relpersistence);
    this.put(this.tables, key(schema, q.name), {
      schema,
      name: q.name,
      kind: 'table',
      persistence,
      columns: new Map(),
      constraints: new Map(),
      primaryKey: false,
      partitioned: false,
      onCommitDrop: f.into?.onCommit === 'ONCOMMIT_DROP',
      origin,
    });
  }

  private createView(rel: AstValue, kind: 'view' | 'matview', origin: Origin, replace: boolean): void {
    if (!rel) return;
    const q = rangeVarName(rel);
    const { schema, persistence } = this.persistenceIn(q, rel.relpersistence);
    const k = key(schema, q.name);
    if (replace && this.tables.has(k)) return;
    this.put(this.tables, k, {
      schema,
      name: q.name,
      kind,
      persistence,
      columns: new Map(),
      constraints: new Map(),
      primaryKey: false,
      partitioned: false,
      onCommitDrop: false,
      origin,
    });
  }

  /** CHECK constraints recorded for a table the migrations did not create (see externalChecks). */
  externalCheckConstraints(q: QualifiedName): Map<string, Constraint> | undefined {
    return this.externalChecks.get(this.tableKey(q));
  }

  /** ALTER TABLE of a table the migrations did not create: only its CHECK constraints are tracked. */
  private alterExternal(f: AstValue, origin: Origin): void {
    const q = rangeVarName(f.relation);
    const k = this.tableKey(q);
    for (const cmdNode of f.cmds ?? []) {
      const cmd = fields(cmdNode);
      if (cmd.subtype === 'AT_AddConstraint') {
        const c = fields(cmd.def);
        if (c.contype !== 'CONSTR_CHECK') continue;
        let m = this.externalChecks.get(k);
        if (!m) {
          m = new Map();
          this.put(this.externalChecks, k, m);
        }
        const name = c.conname || defaultConstraintName(q.name, 'check', [], undefined);
        this.put(m, name, { name, kind: 'check', validated: !c.skip_validation, columns: [], expr: c.raw_expr, origin });
      } else if (cmd.subtype === 'AT_ValidateConstraint') {
        const c = this.externalChecks.get(k)?.get(cmd.name);
        if (c) this.set(c, 'validated', true);
      } else if (cmd.subtype === 'AT_DropConstraint') {
        const m = this.externalChecks.get(k);
        if (m) this.remove(m, cmd.name);
      }
    }
  }

  private alterTable(f: AstValue, origin: Origin): void {
    const table = this.table(rangeVarName(f.relation));
    if (!table) return this.alterExternal(f, origin);
    for (const cmdNode of f.cmds ?? []) {
      const cmd = fields(cmdNode);
      const col = cmd.name ? table.columns.get(cmd.name) : undefined;
      switch (cmd.subtype) {
        case 'AT_AddColumn': {
          const def = fields(cmd.def);
          if (cmd.missing_ok && table.columns.has(def.colname)) break;
          const before = new Map(table.columns);
          const beforeConstraints = new Map(table.constraints);
          const pk = table.primaryKey;
          this.addColumn(table, def, origin);
          // addColumn writes straight into the maps: record one undo for the whole column.
          this.record(() => {
            table.columns.clear();
            for (const [k, v] of before) table.columns.set(k, v);
            table.constraints.clear();
            for (const [k, v] of beforeConstraints) table.constraints.set(k, v);
            table.primaryKey = pk;
          });
          break;
        }
        case 'AT_DropColumn':
          if (col) {
            this.remove(table.columns, cmd.name);
            // PostgreSQL drops the table's indexes and constraints that involve the column with it
            // (a primary key included).
            for (const [n, c] of [...table.constraints]) {
              if (!c.columns.includes(cmd.name)) continue;
              this.remove(table.constraints, n);
              if (c.kind === 'primary') this.set(table, 'primaryKey', false);
            }
          }
          break;
        case 'AT_AlterColumnType':
          if (col) {
            const def = fields(cmd.def);
            this.set(col, 'type', typeNameString(def.typeName));
            this.set(col, 'typmods', typeMods(def.typeName));
            this.set(col, 'isArray', Array.isArray(def.typeName?.arrayBounds) && def.typeName.arrayBounds.length > 0);
          }
          break;
        case 'AT_ColumnDefault':
          if (col) this.set(col, 'default', cmd.def ?? undefined);
          break;
        case 'AT_SetNotNull':
          if (col) this.set(col, 'notNull', true);
          break;
        case 'AT_DropNotNull':
          if (col) this.set(col, 'notNull', false);
          break;
        case 'AT_AddIdentity':
          if (col) this.set(col, 'identity', true);
          break;
        case 'AT_DropIdentity':
          if (col) this.set(col, 'identity', false);
          break;
        case 'AT_AddConstraint':
        case 'AT_AddIndexConstraint': {
          const c = fields(cmd.def);
          this.addConstraint(table, c, origin, false);
          break;
        }
        case 'AT_AddIndex': {
          const idx = fields(cmd.def);
          if (idx.primary) this.set(table, 'primaryKey', true);
          break;
        }
        case 'AT_ValidateConstraint': {
          const c = table.constraints.get(cmd.name);
          if (c) this.set(c, 'validated', true);
          break;
        }
        case 'AT_DropConstraint': {
          const c = table.constraints.get(cmd.name);
          if (c) {
            this.remove(table.constraints, cmd.name);
            if (c.kind === 'primary') this.set(table, 'primaryKey', false);
          }
          break;
        }
        case 'AT_SetLogged':
          this.set(table, 'persistence', 'permanent');
          break;
        case 'AT_SetUnLogged':
          this.set(table, 'persistence', 'unlogged');
          break;
        case 'AT_AttachPartition': {
          const part = this.table(rangeVarName(fields(cmd.def).name));
          if (part) {
            this.set(part, 'parent', key(table.schema, table.name));
            if (table.primaryKey) this.set(part, 'primaryKey', true);
          }
          break;
        }
        default:
          break;
      }
    }
  }

  private createIndex(f: AstValue, origin: Origin): void {
    const tq = rangeVarName(f.relation);
    const table = this.table(tq);
    const schema = table ? table.schema : this.creationSchema(tq);
    const name = f.idxname || `${tq.name}_${names((f.indexParams ?? []).map((p: AstValue) => ({ String: { sval: fields(p).name ?? 'expr' } }))).join('_')}_idx`;
    const k = key(schema, name);
    if (f.if_not_exists && this.indexes.has(k)) return;
    this.put(this.indexes, k, { schema, name, table: table ? key(table.schema, table.name) : this.tableKey(tq), unique: !!f.unique, origin });
  }

  private createSequence(f: AstValue, origin: Origin, using?: string): void {
    const q = rangeVarName(f.sequence);
    const { schema, persistence } = this.persistenceIn(q, f.sequence?.relpersistence);
    const k = key(schema, q.name);
    if (f.if_not_exists && this.sequences.has(k)) return;
    this.put(this.sequences, k, { schema, name: q.name, persistence, global: using === 'bdr', origin });
  }

  private createType(q: QualifiedName, kind: TypeInfo['kind'], values: string[], origin: Origin): void {
    const schema = this.creationSchema(q);
    this.put(this.types, key(schema, q.name), { schema, name: q.name, kind, values, origin });
  }

  private alterEnum(f: AstValue): void {
    const t = this.type(listName(f.typeName));
    if (!t) return;
    if (f.oldVal) {
      this.set(t, 'values', t.values.map((v) => (v === f.oldVal ? f.newVal : v)));
    } else if (f.newVal && !t.values.includes(f.newVal)) {
      this.set(t, 'values', [...t.values, f.newVal]);
    }
  }

  private createFunction(f: AstValue, origin: Origin): void {
    const q = listName(f.funcname);
    const schema = this.creationSchema(q);
    let volatility: Volatility = 'v';
    let language = 'sql';
    let body: string | undefined;
    for (const o of f.options ?? []) {
      const d = fields(o);
      if (d.defname === 'volatility') volatility = (strVal(d.arg) ?? 'volatile')[0] as Volatility;
      else if (d.defname === 'language') language = strVal(d.arg) ?? 'sql';
      else if (d.defname === 'as') body = strVal(fields(d.arg).items?.[0] ?? d.arg);
    }
    this.put(this.functions, key(schema, q.name), { schema, name: q.name, volatility, language, body, origin });
  }

  /** ALTER FUNCTION ... IMMUTABLE | STABLE | VOLATILE: the new declared volatility. */
  private alterFunction(f: AstValue): void {
    if (f.objtype && f.objtype !== 'OBJECT_FUNCTION' && f.objtype !== 'OBJECT_ROUTINE') return;
    const fi = f.func?.objname ? this.func(listName(f.func.objname)) : undefined;
    if (!fi) return;
    for (const a of f.actions ?? []) {
      const d = fields(a);
      if (d.defname === 'volatility') {
        const v = (strVal(d.arg) ?? '')[0];
        if (v === 'i' || v === 's' || v === 'v') this.set(fi, 'volatility', v);
      }
    }
  }

  private drop(f: AstValue): void {
    for (const obj of f.objects ?? []) {
      const list = nodeType(obj) === 'List' ? fields(obj).items : undefined;
      const q = list ? listName(list) : nodeType(obj) === 'TypeName' ? listName(fields(obj).names) : undefined;
      const fn = nodeType(obj) === 'ObjectWithArgs' ? listName(fields(obj).objname) : undefined;
      switch (f.removeType) {
        case 'OBJECT_TABLE':
        case 'OBJECT_VIEW':
        case 'OBJECT_MATVIEW':
        case 'OBJECT_FOREIGN_TABLE': {
          const t = q && this.table(q);
          if (t) {
            this.remove(this.tables, key(t.schema, t.name));
            for (const [k, idx] of this.indexes) if (idx.table === key(t.schema, t.name)) this.remove(this.indexes, k);
          }
          break;
        }
        case 'OBJECT_INDEX': {
          const i = q && this.index(q);
          if (i) this.remove(this.indexes, key(i.schema, i.name));
          break;
        }
        case 'OBJECT_SEQUENCE': {
          const s = q && this.sequence(q);
          if (s) this.remove(this.sequences, key(s.schema, s.name));
          break;
        }
        case 'OBJECT_TYPE':
        case 'OBJECT_DOMAIN': {
          const t = q && this.type(q);
          if (t) this.remove(this.types, key(t.schema, t.name));
          break;
        }
        case 'OBJECT_FUNCTION':
        case 'OBJECT_PROCEDURE':
        case 'OBJECT_ROUTINE': {
          const fi = fn && this.func(fn);
          if (fi) this.remove(this.functions, key(fi.schema, fi.name));
          break;
        }
        default:
          break;
      }
    }
  }

  /** ALTER TABLE ... SET SCHEMA: the same Table object under its new schema. */
  private setTableSchema(f: AstValue): void {
    const t = this.table(rangeVarName(f.relation));
    if (!t || !f.newschema) return;
    const oldKey = key(t.schema, t.name);
    this.remove(this.tables, oldKey);
    this.set(t, 'schema', f.newschema);
    this.put(this.tables, key(t.schema, t.name), t);
    for (const other of this.tables.values()) if (other.parent === oldKey) this.set(other, 'parent', key(t.schema, t.name));
  }

  private rename(f: AstValue): void {
    if (f.renameType === 'OBJECT_TABLE' || f.renameType === 'OBJECT_VIEW' || f.renameType === 'OBJECT_MATVIEW') {
      const t = this.table(rangeVarName(f.relation));
      if (!t) return;
      // Renamed in place: the Table object keeps its identity (rules track tables by object).
      const oldKey = key(t.schema, t.name);
      this.remove(this.tables, oldKey);
      this.set(t, 'name', f.newname);
      this.put(this.tables, key(t.schema, f.newname), t);
      for (const idx of this.indexes.values()) if (idx.table === oldKey) this.set(idx, 'table', key(t.schema, t.name));
      for (const other of this.tables.values()) if (other.parent === oldKey) this.set(other, 'parent', key(t.schema, t.name));
    } else if (f.renameType === 'OBJECT_COLUMN') {
      const t = this.table(rangeVarName(f.relation));
      const col = t?.columns.get(f.subname);
      if (!t || !col) return;
      this.remove(t.columns, f.subname);
      this.put(t.columns, f.newname, { ...col, name: f.newname });
    } else if (f.renameType === 'OBJECT_TABCONSTRAINT') {
      const t = this.table(rangeVarName(f.relation));
      const c = t?.constraints.get(f.subname);
      if (!t || !c) return;
      this.remove(t.constraints, f.subname);
      this.put(t.constraints, f.newname, { ...c, name: f.newname });
    } else if (f.renameType === 'OBJECT_INDEX') {
      const i = this.index(rangeVarName(f.relation));
      if (!i) return;
      this.remove(this.indexes, key(i.schema, i.name));
      this.put(this.indexes, key(i.schema, f.newname), { ...i, name: f.newname });
    }
  }
}

const SERIAL_TYPES: Record<string, string> = {
  serial: 'int4',
  serial4: 'int4',
  bigserial: 'int8',
  serial8: 'int8',
  smallserial: 'int2',
  serial2: 'int2',
};

/** True when a type name as written is a serial pseudo-type. */
export function isSerialType(t: string): boolean {
  return t in SERIAL_TYPES;
}

const CONSTRAINT_KINDS: Record<string, ConstraintKind> = {
  CONSTR_CHECK: 'check',
  CONSTR_FOREIGN: 'foreign',
  CONSTR_PRIMARY: 'primary',
  CONSTR_UNIQUE: 'unique',
  CONSTR_EXCLUSION: 'exclude',
};

function persistenceOf(p: string | undefined): Persistence {
  return p === 't' ? 'temp' : p === 'u' ? 'unlogged' : 'permanent';
}

/** PostgreSQL's default constraint names (ChooseConstraintName): table_col_pkey, table_col_fkey, ... */
function defaultConstraintName(table: string, kind: ConstraintKind, columns: string[], column?: string): string {
  const suffix = { check: 'check', foreign: 'fkey', primary: 'pkey', unique: 'key', exclude: 'excl', notnull: 'not_null' }[kind];
  if (kind === 'primary') return `${table}_pkey`;
  const cols = columns.length > 0 ? columns : column ? [column] : [];
  return [table, ...cols, suffix].join('_');
}

/** True when a node is a wrapped node of the given type. */
export function isNode(n: AstNode | undefined, type: string): boolean {
  return nodeType(n) === type;
}
