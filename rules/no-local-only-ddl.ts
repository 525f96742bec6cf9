/**
 * no-local-only-ddl: statements that take effect only on the node where the migration runs.
 * Spec §1 (not replicated: databases, tablespaces, ALTER SYSTEM, CLUSTER ...), §2.2 (matrix rows with
 * Replicated = N: databases, ALTER SYSTEM, tablespaces before PGD 6, materialized views on PGD 5 and
 * 6.0–6.1, COMMENT / GRANT / SECURITY LABEL on tablespaces, databases and large objects), §1.3 (PGD 6:
 * tablespaces replicated; materialized views from 6.2), §4 (bdr.ddl_replication, bdr.role_replication,
 * bdr.run_on_all_nodes, bdr.replicate_ddl_command), §7.1/§7.2 (BDR 1: roles, databases, tablespaces,
 * ALTER SYSTEM, ... are applied locally; bdr.skip_ddl_replication; bdr.bdr_replicate_ddl_command).
 *
 * Not here: temporary and unlogged relations (intentionally local; no-unlogged-table), REINDEX
 * (no-reindex), LOCK TABLE (no-lock-table), VACUUM / ANALYZE / CHECKPOINT (maintenance that changes no
 * schema: harmless in a migration), statements inside bdr.run_on_* (they run on the nodes named).
 */
import { AstValue, fields, listName, names, rangeVarName, strVal } from '../src/ast';
import { shown } from '../src/describe';
import type { Stmt } from '../src/model';
import { cannotRunInTransaction, relationsOf } from '../src/pgd';
import type { Rule, StatementContext } from '../src/rule';
import { deparse, dollarQuote } from '../src/sqlgen';
import { Target, atLeast, below, productName } from '../src/targets';
import { alsoRunOnAllNodes, isOff, isOn, qualifyRelations, settingBefore, writtenSql } from '../src/unsupported-local-ddl';

interface Local {
  /** What the statement is, for the message: `ALTER SYSTEM SET work_mem`. */
  what: string;
  /** Why it stays on this node. */
  why: string;
  /** What the other nodes see. */
  others: string;
  /** Local because the session turned replication off (not by the kind of statement): the setting's name. */
  session?: string;
}

export const rule: Rule = {
  meta: {
    id: 'no-local-only-ddl',
    description:
      'Statements that run only on the node that applies the migration: databases, tablespaces (before PGD 6), ALTER SYSTEM, materialized views (PGD 5–6.1), roles on BDR 1, DDL run with DDL replication turned off',
    severity: () => 'warning',
    fixable: false,
    spec: ['§1', '§1.3', '§2.2', '§4', '§7.1', '§7.2'],
  },
  statement(ctx) {
    const { stmt } = ctx;
    if (!stmt.node || stmt.via === 'function') return;
    // bdr.run_on_* runs it on the nodes it names; (bdr_)replicate_ddl_command replicates it explicitly.
    if (stmt.tx.kind === 'remote' || stmt.via === 'replicate_ddl_command' || stmt.via === 'bdr_replicate_ddl_command') return;
    const local = inherentlyLocal(ctx) ?? sessionLocal(ctx);
    if (!local) return;
    if (alsoRunOnAllNodes(ctx.model, stmt)) return;
    // BDR 3.6 has no DDL chapter of its own: its matrix is that of 3.7 (spec §1.1, inferred).
    const inferred = !local.session && ctx.target.family === 'bdr3' && ctx.target.minor === 6 ? ' (BDR 3.6: inferred from BDR 3.7, spec §1.1)' : '';
    ctx.report({
      message: `${local.what} runs only on the node that applies this migration (${local.why}): ${local.others}${inferred}`,
      suggestion: suggestion(ctx, local),
      span: { start: stmt.start, end: stmt.end },
    });
  },
};

const DATABASE_TYPES = new Set(['CreatedbStmt', 'DropdbStmt', 'AlterDatabaseStmt', 'AlterDatabaseSetStmt', 'AlterDatabaseRefreshCollStmt']);
const TABLESPACE_TYPES = new Set(['CreateTableSpaceStmt', 'DropTableSpaceStmt', 'AlterTableSpaceOptionsStmt']);
const ROLE_TYPES = new Set(['CreateRoleStmt', 'AlterRoleStmt', 'AlterRoleSetStmt', 'DropRoleStmt', 'GrantRoleStmt']);

/** The object kind a statement works on, for the database / tablespace / role / matview families. */
function objectKind(stmt: Stmt): string | undefined {
  const f = stmt.f;
  switch (stmt.type) {
    case 'RenameStmt':
      return f.renameType === 'OBJECT_COLUMN' ? f.relationType : f.renameType;
    case 'AlterOwnerStmt':
      return f.objectType;
    case 'AlterObjectSchemaStmt':
      return f.objectType;
    case 'AlterTableStmt':
      return f.objtype;
    case 'CreateTableAsStmt':
      return f.objtype;
    case 'DropStmt':
      return f.removeType;
    case 'RefreshMatViewStmt':
      return 'OBJECT_MATVIEW';
    case 'CommentStmt':
    case 'SecLabelStmt':
    case 'GrantStmt':
      return f.objtype;
    default:
      return undefined;
  }
}

function product(target: Target): string {
  return productName(target);
}

/** Statements the target never replicates (spec §1, §2.2, §7.2). */
function inherentlyLocal(ctx: StatementContext): Local | undefined {
  const { stmt, target } = ctx;
  const f = stmt.f;
  const kind = objectKind(stmt);
  const bdr1 = target.family === 'bdr1';
  const p = product(target);

  // Databases: all targets (PGD replicates per database).
  if (DATABASE_TYPES.has(stmt.type) || ((stmt.type === 'RenameStmt' || stmt.type === 'AlterOwnerStmt') && kind === 'OBJECT_DATABASE')) {
    const db = f.dbname ?? f.subname ?? strVal(f.object) ?? '';
    if (bdr1 && db === 'bdr_supervisordb') return undefined; // rejected: no-unsupported-ddl
    const others =
      stmt.type === 'CreatedbStmt'
        ? `the other nodes get no database "${db}"`
        : stmt.type === 'DropdbStmt'
          ? `the other nodes keep database "${db}"`
          : `database "${db}" keeps its old ${stmt.type === 'AlterDatabaseSetStmt' ? 'setting' : 'definition'} on the other nodes`;
    return { what: phrase(stmt, `"${db}"`), why: `${p} does not replicate database commands`, others };
  }

  if (stmt.type === 'AlterSystemStmt') {
    const name = f.setstmt?.name;
    return {
      what: `ALTER SYSTEM ${f.setstmt?.kind === 'VAR_SET_VALUE' ? 'SET' : 'RESET'} ${name ?? 'ALL'}`,
      why: `${p} does not replicate ALTER SYSTEM`,
      others: 'the other nodes keep their setting',
    };
  }

  // Tablespaces: local before PGD 6 (spec §2.2; PGD 6 replicates them, §1.3).
  const tablespace = TABLESPACE_TYPES.has(stmt.type) || ((stmt.type === 'RenameStmt' || stmt.type === 'AlterOwnerStmt') && kind === 'OBJECT_TABLESPACE');
  if (tablespace && target.family !== 'pgd6') {
    const ts = f.tablespacename ?? f.subname ?? strVal(f.object) ?? '';
    const others =
      stmt.type === 'CreateTableSpaceStmt'
        ? `the other nodes get no tablespace "${ts}", and replicated DDL that uses it (CREATE TABLE ... TABLESPACE, SET TABLESPACE) fails there`
        : stmt.type === 'DropTableSpaceStmt'
          ? `the other nodes keep tablespace "${ts}"`
          : `tablespace "${ts}" is unchanged on the other nodes`;
    return { what: phrase(stmt, `"${ts}"`), why: `${p} does not replicate tablespace commands`, others };
  }

  // Materialized views: accepted but not replicated on PGD 5 and 6.0–6.1 (and BDR 3.7 / PGD 4, whose
  // matrix is the same); BDR 1 rejects CREATE / REFRESH (no-unsupported-ddl).
  if (!bdr1 && kind === 'OBJECT_MATVIEW' && below(target, 6, 2) && isMatviewStatement(stmt)) {
    const q = matviewName(stmt);
    // DROP MATERIALIZED VIEW a, b: name them all.
    const all = stmt.type === 'DropStmt' ? (f.objects ?? []).map((o: AstValue) => shown(listName(fields(o).items))).join(', ') : shown(q);
    const others =
      stmt.type === 'CreateTableAsStmt'
        ? `the other nodes get no materialized view ${shown(q)}`
        : stmt.type === 'RefreshMatViewStmt'
          ? `the other nodes keep serving their own, older contents of ${shown(q)}`
          : stmt.type === 'DropStmt'
            ? `the other nodes keep their copy`
            : `the other nodes' copies are unchanged`;
    return {
      what: phrase(stmt, all),
      why: `${p} accepts materialized views but does not replicate them; each node creates and refreshes its own${atLeast(target, 6, 0) ? ' (replicated from PGD 6.2; that version boundary is inferred, spec §1.3)' : ''}`,
      others,
    };
  }

  // COMMENT / SECURITY LABEL on tablespaces, databases, large objects; GRANT on tablespaces, large objects (PGD).
  if (!bdr1 && (stmt.type === 'CommentStmt' || stmt.type === 'SecLabelStmt') && ['OBJECT_TABLESPACE', 'OBJECT_DATABASE', 'OBJECT_LARGEOBJECT'].includes(kind ?? '')) {
    return {
      what: `${stmt.type === 'CommentStmt' ? 'COMMENT' : 'SECURITY LABEL'} ON ${objectWords(kind!)} ${quotedLabel(kind!, f.object)}`,
      why: `${p} does not replicate it for this kind of object`,
      others: `the other nodes keep the old ${stmt.type === 'CommentStmt' ? 'comment' : 'label'}`,
    };
  }
  if (!bdr1 && stmt.type === 'GrantStmt' && ['OBJECT_TABLESPACE', 'OBJECT_LARGEOBJECT'].includes(kind ?? '')) {
    const objs = (f.objects ?? []).map((o: AstValue) => quotedLabel(kind!, o)).join(', ');
    return {
      what: `${f.is_grant ? 'GRANT' : 'REVOKE'} ... ON ${objectWords(kind!)} ${objs}`,
      why: `${p} does not replicate privileges on this kind of object`,
      others: 'the privileges are unchanged on the other nodes',
    };
  }

  // CLUSTER: local maintenance before PGD 6 (PGD 6 takes the global DML lock for it, PR7002).
  if (stmt.type === 'ClusterStmt' && target.family !== 'pgd6') {
    const q = f.relation ? rangeVarName(f.relation) : undefined;
    if (q && isTempOrUnlogged(ctx, f.relation)) return undefined;
    return {
      what: `CLUSTER${q ? ` ${shown(q)}` : ''}`,
      why: `${p} does not replicate maintenance commands`,
      others: 'it rewrites the table in index order only here; the other nodes keep their physical order (and this node holds an ACCESS EXCLUSIVE lock while it rewrites)',
    };
  }

  // Roles: BDR 1 never replicates them (§7.2); PGD replicates them unless bdr.role_replication is off (§4).
  const role = ROLE_TYPES.has(stmt.type) || (stmt.type === 'RenameStmt' && kind === 'OBJECT_ROLE');
  if (role) {
    const names_ = roleNames(stmt);
    const what = phrase(stmt, names_);
    const others =
      stmt.type === 'CreateRoleStmt'
        ? 'the other nodes have no such role, and replicated DDL that names it (OWNER TO, GRANT) fails there'
        : stmt.type === 'DropRoleStmt'
          ? 'the role stays on the other nodes'
          : 'the role is unchanged on the other nodes';
    if (bdr1) return { what, why: 'BDR 1 does not replicate role commands', others };
    const rr = settingBefore(stmt, 'bdr.role_replication');
    if (isOff(rr.value)) {
      return { what, why: `bdr.role_replication is off${lineOf(rr.at)}`, others };
    }
    return undefined;
  }

  if (bdr1) {
    // The rest of BDR 1's skip list that changes the schema (§7.2).
    if (stmt.type === 'ReassignOwnedStmt') {
      return { what: 'REASSIGN OWNED', why: 'BDR 1 applies it on the local node only', others: 'the objects keep their old owner on the other nodes' };
    }
    if (stmt.type === 'CreateEventTrigStmt' || stmt.type === 'AlterEventTrigStmt') {
      return {
        what: `${stmt.type === 'CreateEventTrigStmt' ? 'CREATE' : 'ALTER'} EVENT TRIGGER "${f.trigname}"`,
        why: 'BDR 1 does not replicate event triggers',
        others: stmt.type === 'CreateEventTrigStmt' ? 'the other nodes have no such event trigger' : 'the event trigger is unchanged on the other nodes',
      };
    }
    // DROP / RENAME / OWNER TO of an event trigger: BDR 1 captures DDL with event triggers, which
    // never fire for event triggers themselves (inferred from §7.2 and BDR 1's source).
    if (kind === 'OBJECT_EVENT_TRIGGER' && ['DropStmt', 'RenameStmt', 'AlterOwnerStmt'].includes(stmt.type)) {
      const name = stmt.type === 'DropStmt' ? (f.objects ?? []).map((o: AstValue) => `"${objectLabel(o)}"`).join(', ') : `"${f.subname ?? objectLabel(f.object)}"`;
      return {
        what: `${stmt.type === 'DropStmt' ? 'DROP' : 'ALTER'} EVENT TRIGGER ${name}${stmt.type === 'RenameStmt' ? ` RENAME TO "${f.newname}"` : stmt.type === 'AlterOwnerStmt' ? ' OWNER TO ...' : ''}`,
        why: 'BDR 1 does not replicate event triggers (inferred: its DDL capture never sees them)',
        others: stmt.type === 'DropStmt' ? 'the other nodes keep the event trigger' : 'the event trigger is unchanged on the other nodes',
      };
    }
    // COMMENT / GRANT on a database or tablespace: shared objects, which BDR 1's event-trigger based
    // DDL capture does not see, like the other database and tablespace commands of §7.2 (inferred).
    if ((stmt.type === 'CommentStmt' || stmt.type === 'GrantStmt') && (kind === 'OBJECT_DATABASE' || kind === 'OBJECT_TABLESPACE')) {
      const objs = stmt.type === 'CommentStmt' ? quotedLabel(kind, f.object) : (f.objects ?? []).map((o: AstValue) => quotedLabel(kind, o)).join(', ');
      const verb = stmt.type === 'CommentStmt' ? 'COMMENT' : f.is_grant ? 'GRANT ...' : 'REVOKE ...';
      return {
        what: `${verb} ON ${objectWords(kind)} ${objs}`,
        why: `BDR 1 does not replicate commands on ${kind === 'OBJECT_DATABASE' ? 'databases' : 'tablespaces'} (inferred for ${stmt.type === 'CommentStmt' ? 'COMMENT' : 'GRANT / REVOKE'} from §7.2)`,
        others: stmt.type === 'CommentStmt' ? 'the other nodes keep the old comment' : 'the privileges are unchanged on the other nodes',
      };
    }
    // ALTER SEQUENCE ... SET (cache_chunks = n): a global sequence's options stay on this node (§7.4).
    if (stmt.type === 'AlterTableStmt' && f.objtype === 'OBJECT_SEQUENCE') {
      const opts = (f.cmds ?? []).map(fields).filter((c: AstValue) => c.subtype === 'AT_SetRelOptions' || c.subtype === 'AT_ResetRelOptions');
      if (opts.length > 0) {
        const q = rangeVarName(f.relation);
        const names_ = opts.flatMap((c: AstValue) => (c.def ? (fields(c.def).items ?? c.def.List?.items ?? []) : []).map((d: AstValue) => String(fields(d).defname)));
        return {
          what: `ALTER SEQUENCE ${shown(q)} ${opts[0].subtype === 'AT_SetRelOptions' ? 'SET' : 'RESET'} (${names_.join(', ')})`,
          why: 'BDR 1 does not replicate the options of a sequence (spec §7.4: ALTER SEQUENCE ... SET (cache_chunks = n) is not replicated)',
          others: 'the other nodes keep their own setting',
        };
      }
    }
  }
  return undefined;
}

function isMatviewStatement(stmt: Stmt): boolean {
  return ['CreateTableAsStmt', 'RefreshMatViewStmt', 'DropStmt', 'AlterTableStmt', 'RenameStmt', 'AlterObjectSchemaStmt'].includes(stmt.type);
}

function matviewName(stmt: Stmt): { schema?: string; name: string } {
  const f = stmt.f;
  if (stmt.type === 'CreateTableAsStmt') return rangeVarName(f.into?.rel);
  if (stmt.type === 'DropStmt') {
    const list = (f.objects ?? []).map((o: AstValue) => listName(fields(o).items));
    return list[0] ?? { name: '' };
  }
  return rangeVarName(f.relation);
}

function objectWords(kind: string): string {
  return kind === 'OBJECT_LARGEOBJECT' ? 'LARGE OBJECT' : kind.replace(/^OBJECT_/, '');
}

/** An object's name for messages: quoted, except large objects (an OID). */
function quotedLabel(kind: string, o: AstValue): string {
  const label = objectLabel(o);
  return kind === 'OBJECT_LARGEOBJECT' ? label : `"${label}"`;
}

function objectLabel(o: AstValue): string {
  const v = strVal(o);
  return v !== undefined ? v : names(fields(o).items).join('.');
}

function roleNames(stmt: Stmt): string {
  const f = stmt.f;
  if (stmt.type === 'CreateRoleStmt') return `"${f.role}"`;
  if (stmt.type === 'AlterRoleStmt' || stmt.type === 'AlterRoleSetStmt') return f.role?.rolename ? `"${f.role.rolename}"` : '';
  if (stmt.type === 'DropRoleStmt') return (f.roles ?? []).map((r: AstValue) => `"${fields(r).rolename ?? r.rolename}"`).join(', ');
  if (stmt.type === 'RenameStmt') return `"${f.subname}"`;
  if (stmt.type === 'GrantRoleStmt') {
    const granted = (f.granted_roles ?? []).map((r: AstValue) => `"${fields(r).priv_name}"`).join(', ');
    const to = (f.grantee_roles ?? []).map((r: AstValue) => (fields(r).rolename ? `"${fields(r).rolename}"` : 'CURRENT_USER')).join(', ');
    return `${granted} ${f.is_grant ? 'TO' : 'FROM'} ${to}`;
  }
  return '';
}

/** The statement in words with its object: `ALTER DATABASE "app" RENAME TO "app2"`, `DROP ROLE "x"`. */
function phrase(stmt: Stmt, name: string): string {
  const f = stmt.f;
  const n = name ? ` ${name}` : '';
  if (stmt.type === 'RenameStmt') return `${verbOf(stmt).replace(' ... RENAME', '')}${n} RENAME${f.renameType === 'OBJECT_COLUMN' ? ` COLUMN "${f.subname}"` : ''} TO "${f.newname}"`;
  if (stmt.type === 'AlterOwnerStmt') return `${verbOf(stmt).replace(' ... OWNER TO', '')}${n} OWNER TO ${f.newowner?.rolename ? `"${f.newowner.rolename}"` : 'CURRENT_USER'}`;
  if (stmt.type === 'AlterObjectSchemaStmt') return `ALTER MATERIALIZED VIEW${n} SET SCHEMA "${f.newschema}"`;
  if (stmt.type === 'AlterDatabaseSetStmt') return `ALTER DATABASE${n} ${f.setstmt?.kind === 'VAR_SET_VALUE' ? 'SET' : 'RESET'} ${f.setstmt?.name ?? 'ALL'}`;
  return `${verbOf(stmt)}${n}`;
}

/** The command as a verb phrase: CREATE DATABASE, ALTER TABLESPACE, DROP ROLE, ... */
function verbOf(stmt: Stmt): string {
  const f = stmt.f;
  switch (stmt.type) {
    case 'CreatedbStmt':
      return 'CREATE DATABASE';
    case 'DropdbStmt':
      return 'DROP DATABASE';
    case 'AlterDatabaseStmt':
    case 'AlterDatabaseSetStmt':
    case 'AlterDatabaseRefreshCollStmt':
      return 'ALTER DATABASE';
    case 'CreateTableSpaceStmt':
      return 'CREATE TABLESPACE';
    case 'DropTableSpaceStmt':
      return 'DROP TABLESPACE';
    case 'AlterTableSpaceOptionsStmt':
      return 'ALTER TABLESPACE';
    case 'CreateRoleStmt':
      return f.stmt_type === 'ROLESTMT_USER' ? 'CREATE USER' : f.stmt_type === 'ROLESTMT_GROUP' ? 'CREATE GROUP' : 'CREATE ROLE';
    case 'AlterRoleStmt':
    case 'AlterRoleSetStmt':
      return 'ALTER ROLE';
    case 'DropRoleStmt':
      return 'DROP ROLE';
    case 'GrantRoleStmt':
      return f.is_grant ? 'GRANT' : 'REVOKE';
    case 'CreateTableAsStmt':
      return 'CREATE MATERIALIZED VIEW';
    case 'RefreshMatViewStmt':
      return 'REFRESH MATERIALIZED VIEW';
    case 'DropStmt':
      return 'DROP MATERIALIZED VIEW';
    case 'AlterTableStmt':
      return 'ALTER MATERIALIZED VIEW';
    case 'RenameStmt':
      return `ALTER ${objectWords(stmt.f.renameType === 'OBJECT_COLUMN' ? stmt.f.relationType : stmt.f.renameType).replace('MATVIEW', 'MATERIALIZED VIEW')} ... RENAME`;
    case 'AlterObjectSchemaStmt':
      return 'ALTER MATERIALIZED VIEW ... SET SCHEMA';
    case 'AlterOwnerStmt':
      return `ALTER ${objectWords(f.objectType)} ... OWNER TO`;
    default:
      return stmt.type.replace(/Stmt$/, '');
  }
}

function lineOf(s: Stmt | undefined): string {
  return s ? ` (line ${s.file.source.position(s.start).line})` : '';
}

function isTempOrUnlogged(ctx: StatementContext, rv: AstValue): boolean {
  if (!rv) return false;
  if (rv.relpersistence === 't' || rv.relpersistence === 'u') return true;
  if (rv.schemaname && String(rv.schemaname).startsWith('pg_temp')) return true;
  const t = ctx.table(rangeVarName(rv));
  return !!t && t.persistence !== 'permanent';
}

/** DDL run while the session has DDL replication turned off (spec §4, §7.1). */
function sessionLocal(ctx: StatementContext): Local | undefined {
  const { stmt, facts, target } = ctx;
  if (!facts.ddl) return undefined;
  // The target's own setting: BDR 1 has bdr.skip_ddl_replication, PGD / BDR 3 bdr.ddl_replication (§4, §7.1).
  let name = target.family === 'bdr1' ? 'bdr.skip_ddl_replication' : 'bdr.ddl_replication';
  let set = settingBefore(stmt, name);
  let off = target.family === 'bdr1' ? isOn(set.value) : isOff(set.value);
  // bdr.xact_replication = off (PGD 4–6, spec §4): nothing of the transaction is replicated.
  if (!off && target.family !== 'bdr1' && target.family !== 'bdr3') {
    const xact = settingBefore(stmt, 'bdr.xact_replication');
    if (isOff(xact.value)) {
      name = 'bdr.xact_replication';
      set = xact;
      off = true;
    }
  }
  if (!off) return undefined;
  if (stmt.type === 'ReindexStmt') return undefined; // no-reindex
  // Temporary and unlogged relations are local anyway (other rules).
  const rels = relationsOf(stmt.node);
  if (rels.length > 0 && rels.every((r) => isTempOrUnlogged(ctx, r))) return undefined;
  const how = target.family === 'bdr1' ? `${name} is on` : `${name} is off`;
  const scope = set.at?.type === 'VariableSetStmt' && set.at.f.is_local ? 'transaction' : 'session';
  return {
    what: describeStatement(stmt),
    why: `${how} in this ${scope}${lineOf(set.at)}`,
    others: 'the other nodes do not get this schema change unless it is run on each of them, and rows that use it then fail to replicate there',
    session: name,
  };
}

/** A short name of any statement for the message. */
function describeStatement(stmt: Stmt): string {
  const sql = writtenSql(stmt).replace(/\s+/g, ' ');
  return sql.length > 80 ? `${sql.slice(0, 77)}...` : sql;
}

function suggestion(ctx: StatementContext, local: Local): string {
  const { stmt, target } = ctx;
  const sql = writtenSql(stmt);
  const lines: string[] = [];
  const session = !!local.session;
  if (target.family === 'bdr1') {
    if (session) lines.push('-- Drop the SET bdr.skip_ddl_replication so BDR 1 replicates the change, or run it on every node.');
    if (stmt.type === 'ClusterStmt') {
      lines.push(
        '-- Leave CLUSTER out of the migration (it is maintenance, not a schema change), or run it on every node',
        '-- in turn, outside the migration:',
        `${sql};`,
      );
    } else if (cannotRunInTransaction(stmt.node!)) {
      lines.push(
        `-- ${cannotRunInTransaction(stmt.node!)} cannot run inside a transaction, so BDR 1 cannot queue it:`,
        '-- run it on every node in turn (for example psql -h <node> -c ...), outside any transaction block:',
        `${sql};`,
      );
    } else {
      lines.push(
        '-- Run it here and queue it for every node (spec §7.1, §7.2; it runs with search_path = \'\', so every',
        '-- name in it must be schema-qualified):',
        `SELECT bdr.bdr_replicate_ddl_command(${dollarQuote(qualifiedSql(ctx, sql))});`,
      );
    }
    return lines.join('\n');
  }
  if (session) lines.push(`-- Drop the SET ${local.session} = off so ${product(target)} replicates the change, or run it on every node:`);
  else lines.push('-- Run it on every node (one statement per call; each node runs it on its own connection, outside this');
  if (!session) lines.push("-- transaction; a node's error comes back in the JSON result, so check it):");
  lines.push(`SELECT bdr.run_on_all_nodes(${dollarQuote(sql)});`);
  if (stmt.type === 'AlterSystemStmt') lines.push('-- then reload the configuration on every node:', "SELECT bdr.run_on_all_nodes($ddl$ SELECT pg_reload_conf() $ddl$);");
  if (stmt.type === 'CreateTableSpaceStmt') lines.push("-- (the tablespace's directory must exist on every node first)");
  if (stmt.type === 'CreateTableAsStmt') lines.push('-- and create its indexes and refresh it the same way on every node.');
  if (stmt.type === 'CreatedbStmt') lines.push('-- (PGD replicates per database: the new database is not part of the PGD group)');
  if (stmt.type === 'ClusterStmt') lines.push('-- or leave CLUSTER out of the migration: it is maintenance, not a schema change.');
  return lines.join('\n');
}

/** The statement with its relation names schema-qualified (for bdr.bdr_replicate_ddl_command), or as written. */
function qualifiedSql(ctx: StatementContext, written: string): string {
  if (!ctx.stmt.node) return written;
  const { node, bare } = qualifyRelations(ctx.stmt.node, ctx.catalog);
  if (bare.length === 0) return written;
  try {
    return deparse(node);
  } catch {
    return written;
  }
}
