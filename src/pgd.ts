/**
 * What PGD / BDR does with one statement on a given target: is it DDL, is it replicated, which
 * global lock it takes, and whether it changes rows (spec §1, §2, §3, §7). Rules and the
 * transaction model share this one classification.
 */
import { AstValue, fields, names, nodeType, rangeVarName, strVal, walk } from './ast';
import type { Catalog, Table } from './catalog';
import { Target, atLeast, below } from './targets';

export type GlobalLock = 'none' | 'ddl' | 'dml';

export interface Facts {
  /** A schema change (utility statement that PGD treats as DDL). */
  ddl: boolean;
  /** Replicated to the other nodes as a DDL statement. */
  replicated: boolean;
  /** The global lock taken on the target ('dml' implies the DDL lock too). */
  lock: GlobalLock;
  /** Rows changed: none, a number of single-row INSERT rows, or a bulk change. */
  rows: { kind: 'none' } | { kind: 'insert'; count: number } | { kind: 'bulk'; verb: string };
  /** Rows written go only to a migration tool's bookkeeping table. */
  bookkeeping: boolean;
  /** Why the statement is not replicated, when it is not. */
  localReason?: string;
}

/** Session state that changes how statements are replicated. */
export interface Session {
  /** `bdr.ddl_replication` (PGD) / `bdr.skip_ddl_replication` (BDR 1) turned replication off. */
  ddlReplicationOff: boolean;
  /** `bdr.ddl_locking = off` / `bdr.skip_ddl_locking`. */
  ddlLockingOff: boolean;
}

export interface ClassifyContext {
  target: Target;
  catalog: Catalog;
  session: Session;
  /** The statement runs through bdr.run_on_* (every node, DDL replication off). */
  remote: boolean;
  /** Table keys created in the current transaction. */
  createdInTx: (table: Table) => boolean;
}

const BOOKKEEPING = new Set([
  'alembic_version',
  'flyway_schema_history',
  'schema_version',
  'schema_migrations',
  'goose_db_version',
  '_prisma_migrations',
  'django_migrations',
  'sqitch.changes',
  'sqitch.events',
  'sqitch.tags',
  'sqitch.dependencies',
  'sqitch.projects',
  'sqitch.releases',
  'ar_internal_metadata', // Rails, beside schema_migrations
  'databasechangelog', // Liquibase (update-sql output)
  'databasechangeloglock',
  'knex_migrations',
  'knex_migrations_lock',
]);

/** True when a table name is a migration tool's bookkeeping table. */
export function isBookkeepingTable(schema: string | undefined, name: string): boolean {
  return BOOKKEEPING.has(name) || (schema !== undefined && BOOKKEEPING.has(`${schema}.${name}`));
}

/**
 * ALTER TYPE ... ADD VALUE, which PostgreSQL before 12 refuses inside a transaction block, a DO
 * block or a function (ERROR: ALTER TYPE ... ADD cannot run inside a transaction block): BDR 1 runs
 * on PostgreSQL 9.4–9.6.
 */
export function enumAddValueLabel(node: AstValue): string | undefined {
  return nodeType(node) === 'AlterEnumStmt' && !fields(node).oldVal ? 'ALTER TYPE ... ADD VALUE' : undefined;
}

/** Statements PostgreSQL refuses inside a transaction block. */
export function cannotRunInTransaction(node: AstValue): string | undefined {
  const t = nodeType(node);
  const f = fields(node);
  switch (t) {
    case 'IndexStmt':
      return f.concurrent ? 'CREATE INDEX CONCURRENTLY' : undefined;
    case 'DropStmt':
      return f.concurrent ? 'DROP INDEX CONCURRENTLY' : undefined;
    case 'ReindexStmt':
      return hasOption(f.params, 'concurrently') ? 'REINDEX CONCURRENTLY' : f.kind === 'REINDEX_OBJECT_SYSTEM' || f.kind === 'REINDEX_OBJECT_DATABASE' ? 'REINDEX DATABASE' : undefined;
    case 'AlterTableStmt':
      return (f.cmds ?? []).some((c: AstValue) => fields(c).subtype === 'AT_DetachPartition' && fields(fields(c).def).concurrent)
        ? 'ALTER TABLE ... DETACH PARTITION CONCURRENTLY'
        : undefined;
    case 'VacuumStmt':
      return f.is_vacuumcmd ? 'VACUUM' : undefined;
    case 'CreatedbStmt':
      return 'CREATE DATABASE';
    case 'DropdbStmt':
      return 'DROP DATABASE';
    case 'CreateTableSpaceStmt':
      return 'CREATE TABLESPACE';
    case 'DropTableSpaceStmt':
      return 'DROP TABLESPACE';
    case 'AlterSystemStmt':
      return 'ALTER SYSTEM';
    case 'CreateSubscriptionStmt':
      return f.options?.some((o: AstValue) => fields(o).defname === 'create_slot') ? undefined : undefined;
    default:
      return undefined;
  }
}

export function hasOption(list: AstValue[] | undefined, name: string): boolean {
  return (list ?? []).some((o) => {
    const d = fields(o);
    if (d.defname !== name) return false;
    const v = d.arg === undefined ? 'true' : strVal(d.arg);
    return v !== 'false' && v !== 'off' && v !== '0';
  });
}

/** Node types that PGD treats as schema changes (DDL). */
const DDL_TYPES = new Set([
  'CreateStmt', 'AlterTableStmt', 'IndexStmt', 'DropStmt', 'CreateSeqStmt', 'AlterSeqStmt', 'ViewStmt',
  'CreateFunctionStmt', 'AlterFunctionStmt', 'CreateEnumStmt', 'AlterEnumStmt', 'CompositeTypeStmt',
  'CreateDomainStmt', 'AlterDomainStmt', 'CreateRangeStmt', 'CreateExtensionStmt', 'AlterExtensionStmt',
  'AlterExtensionContentsStmt', 'CreateSchemaStmt', 'RenameStmt', 'AlterObjectSchemaStmt', 'AlterOwnerStmt',
  'CommentStmt', 'GrantStmt', 'GrantRoleStmt', 'CreateRoleStmt', 'AlterRoleStmt', 'AlterRoleSetStmt', 'DropRoleStmt',
  'CreateTrigStmt', 'CreatePolicyStmt', 'AlterPolicyStmt', 'RuleStmt', 'CreateTableAsStmt', 'RefreshMatViewStmt',
  'DefineStmt', 'CreateCastStmt', 'CreateOpClassStmt', 'CreateOpFamilyStmt', 'AlterOpFamilyStmt',
  'CreateConversionStmt', 'CreatePLangStmt', 'CreateFdwStmt', 'AlterFdwStmt', 'CreateForeignServerStmt',
  'AlterForeignServerStmt', 'CreateUserMappingStmt', 'AlterUserMappingStmt', 'DropUserMappingStmt',
  'CreateForeignTableStmt', 'ImportForeignSchemaStmt', 'SecLabelStmt', 'AlterDefaultPrivilegesStmt',
  'CreateEventTrigStmt', 'AlterEventTrigStmt', 'AlterTSDictionaryStmt', 'AlterTSConfigurationStmt',
  'CreateStatsStmt', 'AlterStatsStmt', 'CreatePublicationStmt', 'AlterPublicationStmt', 'CreateSubscriptionStmt',
  'AlterSubscriptionStmt', 'DropSubscriptionStmt', 'CreateAmStmt', 'CreateTransformStmt', 'AlterCollationStmt',
  'DropOwnedStmt', 'ReassignOwnedStmt', 'AlterTypeStmt', 'AlterOperatorStmt', 'AlterTableMoveAllStmt',
  'CreatedbStmt', 'DropdbStmt', 'AlterDatabaseStmt', 'AlterDatabaseSetStmt', 'AlterDatabaseRefreshCollStmt',
  'CreateTableSpaceStmt', 'DropTableSpaceStmt', 'AlterTableSpaceOptionsStmt', 'AlterSystemStmt', 'ReindexStmt',
  'ClusterStmt', 'AlterObjectDependsStmt', 'AlterCollationStmt',
]);

/** ALTER TABLE subcommands that take only the DDL lock on PGD (spec §3). */
const PGD_DDL_ONLY_SUBCMDS = new Set([
  'AT_AddColumn', 'AT_ColumnDefault', 'AT_CookedColumnDefault', 'AT_AlterColumnType', 'AT_SetStatistics',
  'AT_ValidateConstraint', 'AT_AttachPartition', 'AT_DetachPartition', 'AT_DetachPartitionFinalize', 'AT_EnableTrig',
  'AT_EnableTrigUser', 'AT_ClusterOn', 'AT_DropCluster', 'AT_SetRelOptions', 'AT_ResetRelOptions', 'AT_ChangeOwner',
]);

/** ALTER TABLE subcommands that take only the DDL lock on BDR 1 (spec §7.1, BDR_LOCK_DDL). */
const BDR1_DDL_ONLY_SUBCMDS = new Set([
  'AT_AddColumn', 'AT_AddIndex', 'AT_AddIndexConstraint', 'AT_DropColumn', 'AT_SetNotNull', 'AT_DropNotNull',
  'AT_ColumnDefault', 'AT_ClusterOn', 'AT_DropCluster', 'AT_ChangeOwner', 'AT_SetStorage', 'AT_EnableTrig',
  'AT_DisableTrig', 'AT_EnableTrigUser', 'AT_DisableTrigUser',
]);

/** Statements BDR 1's command filter passes without a lock and without replication (spec §7.2). */
const BDR1_SKIPPED = new Set([
  'DoStmt', 'CreateTableSpaceStmt', 'DropTableSpaceStmt', 'AlterTableSpaceOptionsStmt', 'TruncateStmt', 'CommentStmt',
  'CopyStmt', 'PrepareStmt', 'ExecuteStmt', 'DeallocateStmt', 'GrantStmt', 'GrantRoleStmt', 'AlterDatabaseStmt',
  'AlterDatabaseSetStmt', 'NotifyStmt', 'ListenStmt', 'UnlistenStmt', 'LoadStmt', 'ClusterStmt', 'VacuumStmt',
  'ExplainStmt', 'AlterSystemStmt', 'VariableSetStmt', 'VariableShowStmt', 'DiscardStmt', 'CreateEventTrigStmt',
  'AlterEventTrigStmt', 'CreateRoleStmt', 'AlterRoleStmt', 'AlterRoleSetStmt', 'DropRoleStmt', 'ReassignOwnedStmt',
  'LockStmt', 'ConstraintsSetStmt', 'CheckPointStmt', 'ReindexStmt', 'CreatedbStmt', 'DropdbStmt',
]);

/** The relations a statement works on (for the temp / unlogged / created-in-transaction exemptions). */
export function relationsOf(node: AstValue): AstValue[] {
  const t = nodeType(node);
  const f = fields(node);
  switch (t) {
    case 'CreateStmt':
    case 'AlterTableStmt':
    case 'IndexStmt':
    case 'CreateTrigStmt':
    case 'CreatePolicyStmt':
    case 'AlterPolicyStmt':
    case 'RuleStmt':
    case 'ClusterStmt':
    case 'TruncateStmt':
    case 'LockStmt':
      return f.relation ? [f.relation] : (f.relations ?? []).map((r: AstValue) => fields(r));
    case 'ReindexStmt':
      return f.relation ? [f.relation] : [];
    case 'CreateSeqStmt':
    case 'AlterSeqStmt':
      return [f.sequence];
    case 'ViewStmt':
      return [f.view];
    case 'CreateTableAsStmt':
      return [f.into?.rel];
    case 'RenameStmt':
    case 'AlterObjectSchemaStmt':
      return f.relation ? [f.relation] : [];
    case 'DropStmt':
      if (['OBJECT_TABLE', 'OBJECT_INDEX', 'OBJECT_SEQUENCE', 'OBJECT_VIEW', 'OBJECT_MATVIEW'].includes(f.removeType)) {
        return (f.objects ?? []).map((o: AstValue) => {
          const parts = names(fields(o).items);
          return { schemaname: parts.length > 1 ? parts[parts.length - 2] : undefined, relname: parts[parts.length - 1] };
        });
      }
      return [];
    default:
      return [];
  }
}

/** Persistence of a relation named by a RangeVar: from the statement itself or the catalog. */
function isLocalRelation(rv: AstValue, ctx: ClassifyContext, removeType?: string): boolean {
  if (!rv) return false;
  if (rv.relpersistence === 't' || rv.relpersistence === 'u') return true;
  if (rv.schemaname && String(rv.schemaname).startsWith('pg_temp')) return true;
  const q = rangeVarName(rv);
  if (removeType === 'OBJECT_INDEX') {
    const idx = ctx.catalog.index(q);
    const table = idx ? ctx.catalog.tables.get(idx.table) : undefined;
    return !!table && table.persistence !== 'permanent';
  }
  if (removeType === 'OBJECT_SEQUENCE') {
    const s = ctx.catalog.sequence(q);
    return !!s && s.persistence !== 'permanent';
  }
  const table = ctx.catalog.table(q);
  return !!table && table.persistence !== 'permanent' && !(ctx.target.family === 'pgd6' && table.persistence === 'unlogged');
}

const NONE: Facts = { ddl: false, replicated: false, lock: 'none', rows: { kind: 'none' }, bookkeeping: false };

/** Classifies one statement on the target. */
export function classify(node: AstValue, ctx: ClassifyContext): Facts {
  const t = nodeType(node);
  const f = fields(node);
  const rows = rowsOf(node);
  if (rows.kind !== 'none') {
    return { ...NONE, rows, bookkeeping: writesOnlyBookkeeping(node) };
  }
  if (!DDL_TYPES.has(t)) return NONE;
  const facts: Facts = { ddl: true, replicated: true, lock: 'ddl', rows, bookkeeping: false };
  const local = (reason: string): Facts => ({ ...facts, replicated: false, lock: 'none', localReason: reason });

  if (ctx.remote) return local('it runs through bdr.run_on_*, with DDL replication off, on every node');
  if (ctx.session.ddlReplicationOff) return local('DDL replication is turned off in this session');

  const rels = relationsOf(node);
  if (rels.length > 0 && rels.every((r) => isLocalRelation(r, ctx, t === 'DropStmt' ? f.removeType : undefined))) {
    return local('it only touches temporary or unlogged relations, which are not replicated');
  }

  const { target } = ctx;
  if (target.family === 'bdr1') {
    if (BDR1_SKIPPED.has(t)) {
      // GRANT and COMMENT replicate through BDR 1's event-trigger DDL capture, which does not see
      // shared objects (databases, tablespaces): those stay local (inferred, §7.2).
      const shared = f.objtype === 'OBJECT_DATABASE' || f.objtype === 'OBJECT_TABLESPACE';
      const replicatedAnyway = (t === 'GrantStmt' || t === 'CommentStmt') && !shared;
      return replicatedAnyway ? { ...facts, lock: 'none' } : local('BDR 1 applies it on the local node only');
    }
    // DROP / RENAME / SET SCHEMA / OWNER TO of objects event triggers do not support (databases,
    // tablespaces, roles, event triggers) pass BDR 1's command filter unlocked and unreplicated (§7.2).
    const objectType = t === 'DropStmt' ? f.removeType : t === 'RenameStmt' ? f.renameType : t === 'AlterObjectSchemaStmt' || t === 'AlterOwnerStmt' ? f.objectType : undefined;
    if (['OBJECT_DATABASE', 'OBJECT_TABLESPACE', 'OBJECT_ROLE', 'OBJECT_EVENT_TRIGGER'].includes(objectType)) {
      return local('BDR 1 applies it on the local node only');
    }
    facts.lock = bdr1Lock(node);
    // ALTER SEQUENCE ... SET (cache_chunks = n) takes the lock but is not replicated (§7.4).
    if (t === 'AlterTableStmt' && f.objtype === 'OBJECT_SEQUENCE' && (f.cmds ?? []).some((c: AstValue) => ['AT_SetRelOptions', 'AT_ResetRelOptions'].includes(fields(c).subtype))) {
      return { ...facts, lock: ctx.session.ddlLockingOff ? 'none' : facts.lock, replicated: false, localReason: 'BDR 1 does not replicate the options of a sequence' };
    }
  } else {
    const reason = pgdNotReplicated(node, target);
    if (reason) return local(reason);
    facts.lock = pgdLock(node, ctx);
  }
  if (ctx.session.ddlLockingOff) facts.lock = 'none';
  return facts;
}

/** Why a statement is not replicated on a PGD / BDR 3 target, if it is not. */
function pgdNotReplicated(node: AstValue, target: Target): string | undefined {
  const t = nodeType(node);
  const f = fields(node);
  switch (t) {
    case 'ReindexStmt':
      if (target.family === 'bdr3' && target.minor <= 6) return undefined;
      if (atLeast(target, 5, 6)) return undefined;
      return 'REINDEX is not replicated on this version';
    case 'ClusterStmt':
      return target.family === 'pgd6' ? undefined : 'CLUSTER is a local maintenance command';
    case 'CreatedbStmt':
    case 'DropdbStmt':
    case 'AlterDatabaseStmt':
    case 'AlterDatabaseSetStmt':
    case 'AlterDatabaseRefreshCollStmt':
      return 'database commands are not replicated';
    case 'AlterSystemStmt':
      return 'ALTER SYSTEM is not replicated';
    case 'CreateTableSpaceStmt':
    case 'DropTableSpaceStmt':
    case 'AlterTableSpaceOptionsStmt':
      return target.family === 'pgd6' ? undefined : 'tablespace commands are not replicated before PGD 6';
    case 'RefreshMatViewStmt':
      return matviewsLocal(target) ? 'materialized views are not replicated on this version' : undefined;
    case 'CreateTableAsStmt':
      return f.objtype === 'OBJECT_MATVIEW' && matviewsLocal(target) ? 'materialized views are not replicated on this version' : undefined;
    case 'DropStmt':
      return f.removeType === 'OBJECT_MATVIEW' && matviewsLocal(target) ? 'materialized views are not replicated on this version' : undefined;
    case 'AlterTableStmt':
      return f.objtype === 'OBJECT_MATVIEW' && matviewsLocal(target) ? 'materialized views are not replicated on this version' : undefined;
    case 'RenameStmt':
    case 'AlterOwnerStmt': {
      // ALTER DATABASE / TABLESPACE ... RENAME TO / OWNER TO (§2.2 database and tablespace rows).
      const kind = t === 'RenameStmt' ? (f.renameType === 'OBJECT_COLUMN' ? f.relationType : f.renameType) : f.objectType;
      if (kind === 'OBJECT_MATVIEW' && matviewsLocal(target)) return 'materialized views are not replicated on this version';
      if (kind === 'OBJECT_DATABASE') return 'database commands are not replicated';
      if (kind === 'OBJECT_TABLESPACE' && target.family !== 'pgd6') return 'tablespace commands are not replicated before PGD 6';
      return undefined;
    }
    case 'AlterObjectSchemaStmt':
      return f.objectType === 'OBJECT_MATVIEW' && matviewsLocal(target) ? 'materialized views are not replicated on this version' : undefined;
    case 'CommentStmt':
    case 'SecLabelStmt':
      return ['OBJECT_TABLESPACE', 'OBJECT_DATABASE', 'OBJECT_LARGEOBJECT'].includes(f.objtype) ? 'this object type is not replicated' : undefined;
    case 'GrantStmt':
      return ['OBJECT_TABLESPACE', 'OBJECT_LARGEOBJECT'].includes(f.objtype) ? 'this object type is not replicated' : undefined;
    default:
      return undefined;
  }
}

/** Materialized views are accepted but not replicated on PGD 5 and 6.0–6.1 (spec §2.2, §1.3). */
export function matviewsLocal(target: Target): boolean {
  return below(target, 6, 2);
}

function pgdLock(node: AstValue, ctx: ClassifyContext): GlobalLock {
  const t = nodeType(node);
  const f = fields(node);
  switch (t) {
    case 'IndexStmt':
      return 'dml';
    case 'DropStmt':
      return f.removeType === 'OBJECT_TABLE' ? dmlUnlessNew(node, ctx) : 'ddl';
    case 'CreatePolicyStmt':
    case 'AlterSeqStmt':
      return dmlUnlessNew(node, ctx);
    case 'ClusterStmt':
      return 'dml';
    case 'AlterTableStmt': {
      const cmds: AstValue[] = (f.cmds ?? []).map(fields);
      const allDdl = cmds.every((c) => {
        if (PGD_DDL_ONLY_SUBCMDS.has(c.subtype)) return true;
        if (c.subtype === 'AT_AddConstraint') {
          const con = fields(c.def);
          return con.skip_validation && (con.contype === 'CONSTR_CHECK' || con.contype === 'CONSTR_FOREIGN') && !(ctx.target.family === 'bdr3');
        }
        return false;
      });
      return allDdl ? 'ddl' : dmlUnlessNew(node, ctx);
    }
    default:
      return 'ddl';
  }
}

/** "ALTER or DROP of an object created in the current transaction doesn't require the global DML lock" (§1). */
function dmlUnlessNew(node: AstValue, ctx: ClassifyContext): GlobalLock {
  const rels = relationsOf(node);
  const allNew = rels.length > 0 && rels.every((rv) => {
    const table = rv && ctx.catalog.table(rangeVarName(rv));
    return !!table && ctx.createdInTx(table);
  });
  return allNew ? 'ddl' : 'dml';
}

function bdr1Lock(node: AstValue): GlobalLock {
  const t = nodeType(node);
  const f = fields(node);
  switch (t) {
    case 'CreateSchemaStmt':
    case 'CreateStmt':
    case 'CreateForeignTableStmt':
    case 'CompositeTypeStmt':
    case 'CreateEnumStmt':
    case 'CreateRangeStmt':
    case 'ViewStmt':
    case 'CreateFunctionStmt':
    case 'CreateDomainStmt':
    case 'DefineStmt':
    case 'AlterDefaultPrivilegesStmt':
    case 'AlterOwnerStmt':
      return 'ddl';
    case 'IndexStmt':
      return f.concurrent && !f.unique ? 'ddl' : 'dml';
    case 'AlterTableStmt':
      return (f.cmds ?? []).every((c: AstValue) => {
        const cmd = fields(c);
        if (cmd.subtype === 'AT_AddColumn') return !hasDefault(cmd.def);
        if (cmd.subtype === 'AT_AddConstraint') {
          const con = fields(cmd.def);
          return con.contype === 'CONSTR_PRIMARY' || con.contype === 'CONSTR_UNIQUE';
        }
        return BDR1_DDL_ONLY_SUBCMDS.has(cmd.subtype);
      })
        ? 'ddl'
        : 'dml';
    default:
      return 'dml';
  }
}

function hasDefault(def: AstValue): boolean {
  const cd = fields(def);
  return !!cd.raw_default || (cd.constraints ?? []).some((c: AstValue) => fields(c).contype === 'CONSTR_DEFAULT');
}

/** Rows a statement writes. */
export function rowsOf(node: AstValue): Facts['rows'] {
  const t = nodeType(node);
  const f = fields(node);
  switch (t) {
    case 'InsertStmt': {
      const sel = fields(f.selectStmt);
      if (f.selectStmt && Array.isArray(sel.valuesLists) && !sel.fromClause) return { kind: 'insert', count: sel.valuesLists.length };
      if (!f.selectStmt) return { kind: 'insert', count: 1 }; // DEFAULT VALUES
      return { kind: 'bulk', verb: 'INSERT ... SELECT' };
    }
    case 'UpdateStmt':
      return { kind: 'bulk', verb: 'UPDATE' };
    case 'DeleteStmt':
      return { kind: 'bulk', verb: 'DELETE' };
    case 'MergeStmt':
      return { kind: 'bulk', verb: 'MERGE' };
    case 'CopyStmt':
      return f.is_from ? { kind: 'bulk', verb: 'COPY' } : { kind: 'none' };
    case 'SelectStmt': {
      let verb: string | undefined;
      walk(f.withClause, (type) => {
        if (type === 'InsertStmt' || type === 'UpdateStmt' || type === 'DeleteStmt' || type === 'MergeStmt') {
          verb = type.replace('Stmt', '').toUpperCase();
          return false;
        }
        return undefined;
      });
      return verb ? { kind: 'bulk', verb: `WITH ... ${verb}` } : { kind: 'none' };
    }
    default:
      return { kind: 'none' };
  }
}

function writesOnlyBookkeeping(node: AstValue): boolean {
  const f = fields(node);
  const rel = f.relation;
  if (!rel) return false;
  return isBookkeepingTable(rel.schemaname, rel.relname);
}

/** A short description of a global lock on the target, for messages. */
export function describeLock(lock: GlobalLock, target: Target): string {
  if (lock === 'none') return 'no global lock';
  if (target.family === 'bdr1') {
    return lock === 'dml'
      ? "BDR 1's global DDL lock in write mode (every node must answer; writes stop on every node)"
      : "BDR 1's global DDL lock (every node must answer; other DDL is blocked cluster-wide)";
  }
  if (lock === 'ddl') return 'the global DDL lock (a majority of nodes must answer; other DDL is blocked cluster-wide)';
  if (target.family === 'pgd6') {
    return 'the leader DML lock (every write leader must answer; writes to the table stop on the write leaders)';
  }
  return 'the global DML lock (every data node must answer; writes to the table stop on every node)';
}
