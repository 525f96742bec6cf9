/**
 * no-unsupported-ddl: statements the target rejects outright (feature_not_supported, 0A000).
 * Spec §2.2 (ALTER LARGE OBJECT: the only Allowed = N row, PGD 3.7–6), §3 (ALTER TABLE variants PGD
 * disallows: SET WITH/WITHOUT OIDS before 5.9, SET STORAGE external on a replica-identity column,
 * RENAME / SET SCHEMA of an autopartitioned table, column references in an added column's
 * expression before 5.6), §2.2/§6 (RENAME / SET SCHEMA of galloc sequences), §1.3 (PGD 6 list),
 * §7.3 and §7.4 (BDR 1's command filter, with its error texts from §8).
 *
 * Left to other rules (not reported twice): CREATE TABLE AS / SELECT INTO (no-create-table-as),
 * EXCLUDE (no-exclusion-constraint), ADD COLUMN ... DEFAULT (no-add-column-volatile-default),
 * ALTER COLUMN TYPE (no-rewriting-alter-type), ADD CONSTRAINT ... USING INDEX (require-using-index),
 * global DDL locking refused by configuration (require-ddl-locking-permit).
 */
import * as pg from 'libpg-query';
import { AstValue, QualifiedName, as, fields, formatName, listName, names, quoteLiteral, rangeVarName, strVal, walk } from '../src/ast';
import { shown } from '../src/describe';
import type { Stmt } from '../src/model';
import type { Rule, StatementContext } from '../src/rule';
import { clone, deparse, dollarQuote } from '../src/sqlgen';
import { atLeast, below, productName } from '../src/targets';
import {
  autopartitionedBy,
  gallocReason,
  gallocSequencesInSchema,
  globalByDefaultAm,
  indexColumnsAt,
  intSequenceCreatedBy,
  isOn,
  leadingWords,
  qualifyRelations,
  replicaIdentityAt,
  replicaIdentityIndexAt,
  setKindCalls,
  settingBefore,
  shape,
  writtenSql,
} from '../src/unsupported-local-ddl';

interface Rejection {
  message: string;
  suggestion: string;
}

export const rule: Rule = {
  meta: {
    id: 'no-unsupported-ddl',
    description: 'Statements the target rejects outright (feature_not_supported): ALTER LARGE OBJECT on PGD; on BDR 1 the prohibited and restricted DDL of its command filter',
    severity: () => 'error',
    fixable: false,
    spec: ['§1.3', '§2.2', '§3', '§6', '§7.3', '§7.4', '§8'],
  },
  statement(ctx) {
    const { stmt } = ctx;
    if (!stmt.node || stmt.via === 'function') return;
    const found = ctx.target.family === 'bdr1' ? bdr1(ctx) : pgd(ctx);
    // BDR 3.6 has no DDL chapter of its own: its restrictions are those of 3.7 (spec §1.1, inferred).
    const inferred = ctx.target.family === 'bdr3' && ctx.target.minor === 6 ? ' (BDR 3.6: inferred from BDR 3.7, spec §1.1)' : '';
    for (const r of found) {
      ctx.report({ message: r.message + inferred, suggestion: r.suggestion, span: { start: stmt.start, end: stmt.end } });
    }
  },
};

// ---- shared ------------------------------------------------------------------------------------

type Persistence = 'permanent' | 'unlogged' | 'temp';

/** Persistence of the relation a RangeVar names: from the statement, else the catalog (unknown = permanent). */
function persistenceOf(ctx: StatementContext, rv: AstValue, objtype?: string): Persistence {
  if (!rv) return 'permanent';
  if (rv.relpersistence === 't') return 'temp';
  if (rv.relpersistence === 'u') return 'unlogged';
  if (rv.schemaname && String(rv.schemaname).startsWith('pg_temp')) return 'temp';
  const q = rangeVarName(rv);
  if (objtype === 'OBJECT_INDEX') {
    const idx = ctx.catalog.index(q);
    const t = idx ? ctx.catalog.tables.get(idx.table) : undefined;
    return t?.persistence ?? 'permanent';
  }
  return ctx.table(q)?.persistence ?? 'permanent';
}

/** SQL of a statement for suggestions: deparsed from the tree when that prints the same statement, else as written. */
function sqlOf(stmt: Stmt, node: AstValue = stmt.node): string {
  try {
    const sql = deparse(node);
    if (roundTrips(sql, node)) return sql;
  } catch {
    /* fall through */
  }
  return node === stmt.node ? writtenSql(stmt) : deparse(node);
}

function roundTrips(sql: string, node: AstValue): boolean {
  try {
    const back = pg.parseSync(sql).stmts?.[0]?.stmt;
    return !!back && shape(back) === shape(node);
  } catch {
    return false;
  }
}

/** WITH (oids = true) in a CREATE TABLE's options (PostgreSQL < 12 syntax the grammar still reads). */
function oidsOption(options: AstValue[] | undefined): boolean {
  return (options ?? []).some((o) => {
    const d = fields(o);
    if (String(d.defname).toLowerCase() !== 'oids' || d.defnamespace) return false;
    return d.arg === undefined || isOn(strVal(d.arg));
  });
}

function withoutOids(node: AstValue): AstValue {
  const n = clone(node);
  const f = fields(n);
  if (f.options) {
    f.options = f.options.filter((o: AstValue) => String(fields(o).defname).toLowerCase() !== 'oids');
    if (f.options.length === 0) delete f.options;
  }
  return n;
}

/** The statements CREATE SCHEMA runs for its elements, and the statement itself. */
function units(stmt: Stmt): AstValue[] {
  if (stmt.type !== 'CreateSchemaStmt') return [stmt.node];
  // Without a schema name, CREATE SCHEMA AUTHORIZATION role names the schema after the role.
  const schema = stmt.f.schemaname ?? stmt.f.authrole?.rolename;
  return [
    stmt.node,
    ...(stmt.f.schemaElts ?? []).map((e: AstValue) => {
      // Elements without a schema are created in the new schema.
      const c = clone(e);
      const f = fields(c);
      for (const k of ['relation', 'sequence', 'view']) if (f[k] && !f[k].schemaname && schema) f[k].schemaname = schema;
      return c;
    }),
  ];
}

// ---- BDR 1 (spec §7.3, §7.4, §8) ----------------------------------------------------------------

const BDR1_SQLSTATE = '(SQLSTATE 0A000, feature_not_supported)';

function notSupported(tag: string): string {
  return `"${tag} is not supported when bdr is active" ${BDR1_SQLSTATE}`;
}

function onlyUnlogged(tag: string, relname: string): string {
  return `"${tag} may only affect UNLOGGED or TEMPORARY tables when BDR is active; ${relname} is a regular table" ${BDR1_SQLSTATE}`;
}

/** The per-node escape hatch BDR 1's own extension scripts use (spec §7.1: superuser settings). */
function perNode(sql: string): string[] {
  return [
    '-- Last resort, as a superuser, on every node in turn (BDR 1 then neither checks nor replicates it;',
    '-- the nodes must end up identical):',
    'SET bdr.permit_unsafe_ddl_commands = on;',
    'SET bdr.skip_ddl_replication = on;',
    `${sql};`,
    'RESET bdr.skip_ddl_replication;',
    'RESET bdr.permit_unsafe_ddl_commands;',
  ];
}

function inExtension(what: string): string[] {
  return [
    `-- Package the ${what} in an extension: statements of an extension script are not filtered, and`,
    '-- CREATE EXTENSION is replicated (its control and SQL files must be installed on every node):',
    'CREATE EXTENSION my_extension;',
  ];
}

/** ALTER TABLE variants BDR 1 allows on permanent tables (bdr_commandfilter.c, spec §7.4). */
const BDR1_AT_ALLOWED = new Set([
  'AT_AddColumn', 'AT_AddIndex', 'AT_DropColumn', 'AT_DropNotNull', 'AT_SetNotNull', 'AT_ColumnDefault', 'AT_CookedColumnDefault',
  'AT_ClusterOn', 'AT_DropCluster', 'AT_SetRelOptions', 'AT_ResetRelOptions', 'AT_ReplaceRelOptions', 'AT_ReplicaIdentity',
  'AT_ChangeOwner', 'AT_SetStorage', 'AT_DropConstraint', 'AT_SetTableSpace', 'AT_AddConstraint', 'AT_ValidateConstraint',
  'AT_EnableTrig', 'AT_EnableAlwaysTrig', 'AT_EnableReplicaTrig', 'AT_DisableTrig', 'AT_EnableTrigAll', 'AT_DisableTrigAll',
  'AT_EnableTrigUser', 'AT_DisableTrigUser', 'AT_SetStatistics',
]);

/** Rejected by other rules of this linter (reported there, not twice). */
const BDR1_AT_ELSEWHERE = new Set(['AT_AlterColumnType', 'AT_AddIndexConstraint']);

/** ALTER TABLE variants BDR 1 names in its error (command tag as the source spells it). */
const BDR1_AT_REJECTED: Record<string, string> = {
  AT_AlterConstraint: 'ALTER TABLE ... ALTER CONSTRAINT',
  AT_AlterColumnGenericOptions: 'ALTER TABLE ... ALTER COLUMN OPTIONS',
  AT_DropOids: 'ALTER TABLE ... SET WITH[OUT] OIDS',
  AT_AddOids: 'ALTER TABLE ... SET WITH[OUT] OIDS',
  AT_EnableRule: 'ALTER TABLE ... ENABLE|DISABLE [ALWAYS|REPLICA] RULE',
  AT_EnableAlwaysRule: 'ALTER TABLE ... ENABLE|DISABLE [ALWAYS|REPLICA] RULE',
  AT_EnableReplicaRule: 'ALTER TABLE ... ENABLE|DISABLE [ALWAYS|REPLICA] RULE',
  AT_DisableRule: 'ALTER TABLE ... ENABLE|DISABLE [ALWAYS|REPLICA] RULE',
  AT_AddInherit: 'ALTER TABLE ... [NO] INHERIT',
  AT_DropInherit: 'ALTER TABLE ... [NO] INHERIT',
  AT_AddOf: 'ALTER TABLE ... [NOT] OF',
  AT_DropOf: 'ALTER TABLE ... [NOT] OF',
  AT_SetOptions: 'ALTER TABLE ... ALTER COLUMN ... SET STATISTICS|(...)',
  AT_ResetOptions: 'ALTER TABLE ... ALTER COLUMN ... SET STATISTICS|(...)',
  AT_GenericOptions: 'ALTER TABLE ... SET (...)',
};

/** DefineStmt kinds BDR 1 allows (CREATE AGGREGATE / OPERATOR / TYPE); others are rejected. */
const DEFINE_TAGS: Record<string, string> = {
  OBJECT_COLLATION: 'CREATE COLLATION',
  OBJECT_TSPARSER: 'CREATE TEXT SEARCH PARSER',
  OBJECT_TSDICTIONARY: 'CREATE TEXT SEARCH DICTIONARY',
  OBJECT_TSTEMPLATE: 'CREATE TEXT SEARCH TEMPLATE',
  OBJECT_TSCONFIGURATION: 'CREATE TEXT SEARCH CONFIGURATION',
};

const SIMPLE_TAGS: Record<string, string> = {
  AlterDomainStmt: 'ALTER DOMAIN',
  AlterExtensionStmt: 'ALTER EXTENSION',
  AlterExtensionContentsStmt: 'ALTER EXTENSION',
  CreateFdwStmt: 'CREATE FOREIGN DATA WRAPPER',
  AlterFdwStmt: 'ALTER FOREIGN DATA WRAPPER',
  CreateForeignServerStmt: 'CREATE SERVER',
  AlterForeignServerStmt: 'ALTER SERVER',
  CreateUserMappingStmt: 'CREATE USER MAPPING',
  AlterUserMappingStmt: 'ALTER USER MAPPING',
  DropUserMappingStmt: 'DROP USER MAPPING',
  RefreshMatViewStmt: 'REFRESH MATERIALIZED VIEW',
  CreatePLangStmt: 'CREATE LANGUAGE',
  CreateConversionStmt: 'CREATE CONVERSION',
  CreateCastStmt: 'CREATE CAST',
  CreateOpClassStmt: 'CREATE OPERATOR CLASS',
  CreateOpFamilyStmt: 'CREATE OPERATOR FAMILY',
  AlterOpFamilyStmt: 'ALTER OPERATOR FAMILY',
  AlterTSDictionaryStmt: 'ALTER TEXT SEARCH DICTIONARY',
  AlterTSConfigurationStmt: 'ALTER TEXT SEARCH CONFIGURATION',
  DropOwnedStmt: 'DROP OWNED',
};

/** RENAME of these object types is rejected by BDR 1 (command tag ALTER <type>). */
const BDR1_NO_RENAME: Record<string, string> = {
  OBJECT_AGGREGATE: 'ALTER AGGREGATE',
  OBJECT_COLLATION: 'ALTER COLLATION',
  OBJECT_CONVERSION: 'ALTER CONVERSION',
  OBJECT_OPCLASS: 'ALTER OPERATOR CLASS',
  OBJECT_OPFAMILY: 'ALTER OPERATOR FAMILY',
};

/** Command tag of ALTER <object> ... SET SCHEMA. */
function alterTag(objectType: string): string {
  const special: Record<string, string> = {
    OBJECT_MATVIEW: 'MATERIALIZED VIEW',
    OBJECT_FOREIGN_TABLE: 'FOREIGN TABLE',
    OBJECT_OPCLASS: 'OPERATOR CLASS',
    OBJECT_OPFAMILY: 'OPERATOR FAMILY',
    OBJECT_TSPARSER: 'TEXT SEARCH PARSER',
    OBJECT_TSDICTIONARY: 'TEXT SEARCH DICTIONARY',
    OBJECT_TSTEMPLATE: 'TEXT SEARCH TEMPLATE',
    OBJECT_TSCONFIGURATION: 'TEXT SEARCH CONFIGURATION',
  };
  return `ALTER ${special[objectType] ?? objectType.replace(/^OBJECT_/, '').replace(/_/g, ' ')}`;
}

function bdr1(ctx: StatementContext): Rejection[] {
  const { stmt } = ctx;
  const out: Rejection[] = [];
  // Checked by BDR 1's executor hook, not by its command filter: no setting turns it off (spec §7.4).
  out.push(...withoutPrimaryKey(ctx));
  // PostgreSQL's own refusal (its version, not BDR): no setting turns it off either.
  const enumChange = bdr1EnumChange(ctx);
  if (enumChange) out.push(enumChange);
  if (stmt.via === 'bdr_replicate_ddl_command') {
    const r = unqualifiedNames(ctx);
    if (r) out.push(r);
  }
  // bdr.permit_unsafe_ddl_commands bypasses the command filter (spec §7.1).
  if (isOn(settingBefore(stmt, 'bdr.permit_unsafe_ddl_commands').value)) return out;
  for (const node of units(stmt)) {
    const r = bdr1Unit(ctx, node, node === stmt.node);
    if (r) out.push(r);
  }
  return out;
}

/**
 * ALTER TYPE ... ADD VALUE inside a transaction block or a DO block, and ALTER TYPE ... RENAME
 * VALUE: BDR 1 runs on PostgreSQL 9.4–9.6, which refuses the first there (allowed from PostgreSQL
 * 12) and has no second (PostgreSQL 10). A PostgreSQL fact, not in the PGD spec.
 */
function bdr1EnumChange(ctx: StatementContext): Rejection | undefined {
  const { stmt } = ctx;
  if (stmt.type !== 'AlterEnumStmt') return undefined;
  const f = stmt.f;
  const type = formatName(listName(f.typeName));
  const sql = sqlOf(stmt);
  if (f.oldVal) {
    return {
      message: `ALTER TYPE ${type} RENAME VALUE does not exist on BDR 1's PostgreSQL 9.4–9.6 (it came with PostgreSQL 10): the statement is a syntax error there`,
      suggestion: [
        `-- PostgreSQL 9.4–9.6 cannot rename an enum value. Add the new value (outside any transaction block), move the rows to it,`,
        `-- and stop using the old one (a value cannot be dropped from an enum either):`,
        `ALTER TYPE ${type} ADD VALUE ${quoteLiteral(String(f.newVal))} AFTER ${quoteLiteral(String(f.oldVal))};`,
      ].join('\n'),
    };
  }
  if (!stmt.tx.block && stmt.via !== 'do') return undefined;
  const where = stmt.via === 'do' ? 'inside a DO block' : 'inside a transaction block';
  return {
    message:
      `ALTER TYPE ${type} ADD VALUE ${where}: BDR 1 runs on PostgreSQL 9.4–9.6, which refuses it there with ` +
      `ERROR: ALTER TYPE ... ADD cannot run inside a transaction block (SQLSTATE 25001; allowed in one from PostgreSQL 12)`,
    suggestion: [
      `-- Run it on its own, outside any transaction block (with Alembic: inside op.get_context().autocommit_block()),`,
      `-- permitting DDL locking for the session around it (SET LOCAL needs a transaction block):`,
      'SET bdr.permit_ddl_locking = true;',
      `${sql};`,
      'RESET bdr.permit_ddl_locking;',
    ].join('\n'),
  };
}

function bdr1Unit(ctx: StatementContext, node: AstValue, top: boolean): Rejection | undefined {
  const { stmt } = ctx;
  const type = Object.keys(node)[0];
  const f = fields(node);
  const sql = sqlOf(stmt, node);
  switch (type) {
    case 'CreateStmt': {
      const q = rangeVarName(f.relation);
      if (f.ofTypename) {
        const typeName = formatName(listName(f.ofTypename.names));
        return {
          message: `BDR 1 rejects CREATE TABLE ${shown(q)} OF ${typeName}: ${notSupported('CREATE TABLE ... OF TYPE')}`,
          suggestion: [
            `-- Write the columns of ${typeName} out instead of OF ${typeName} (a typed table cannot be created on BDR 1):`,
            `CREATE TABLE ${formatName(q)} (/* the attributes of ${typeName}, with their types */);`,
          ].join('\n'),
        };
      }
      if ((top && stmt.legacy.withOids) || oidsOption(f.options)) {
        return {
          message: `BDR 1 rejects CREATE TABLE ${shown(q)} WITH OIDS: "Tables WITH OIDs are not supported with bdr" ${BDR1_SQLSTATE}`,
          suggestion: [
            '-- Create the table without OIDs; if rows need a surrogate key, give them a column of their own',
            '-- (fed by a global sequence: USING bdr):',
            `${sqlOf(stmt, withoutOids(node))};`,
          ].join('\n'),
        };
      }
      return undefined;
    }
    case 'AlterTableStmt':
      return bdr1AlterTable(ctx, node);
    case 'IndexStmt': {
      if (!f.unique || !f.whereClause) return undefined;
      if (persistenceOf(ctx, f.relation) !== 'permanent') return undefined;
      const q = rangeVarName(f.relation);
      const full = clone(node);
      delete full.IndexStmt.whereClause;
      const partial = clone(node);
      partial.IndexStmt.unique = false;
      return {
        message: `BDR 1 rejects the partial unique index ${f.idxname ? `"${f.idxname}" ` : ''}on permanent table ${shown(q)}: ${onlyUnlogged('CREATE UNIQUE INDEX ... WHERE', q.name)}`,
        suggestion: [
          '-- Either a unique index on all rows (no WHERE):',
          `${sqlOf(stmt, full)};`,
          '-- or a partial index that is not unique, with uniqueness checked by the application:',
          `${sqlOf(stmt, partial)};`,
        ].join('\n'),
      };
    }
    case 'DefineStmt': {
      const tag = DEFINE_TAGS[f.kind];
      if (!tag) return undefined;
      return {
        message: `BDR 1 rejects ${tag} ${shown(listName(f.defnames))}: ${notSupported(tag)}`,
        suggestion: [...inExtension(tag.replace('CREATE ', '').toLowerCase()), ...perNode(sql)].join('\n'),
      };
    }
    case 'CreateTableAsStmt': {
      if (f.objtype !== 'OBJECT_MATVIEW' || (f.into?.rel?.relpersistence && f.into.rel.relpersistence !== 'p')) return undefined;
      const q = rangeVarName(f.into?.rel);
      let view = `CREATE VIEW ${formatName(q)} AS /* the query */`;
      try {
        view = `CREATE VIEW ${formatName(q)} AS ${deparse(f.query)}`;
      } catch {
        /* keep the placeholder */
      }
      return {
        message: `BDR 1 rejects CREATE MATERIALIZED VIEW ${shown(q)}: ${notSupported('CREATE MATERIALIZED VIEW')}`,
        suggestion: [
          '-- A plain view (computed when read):',
          `${view};`,
          '-- or a table that the migration fills and that is refreshed with TRUNCATE + INSERT ... SELECT',
          '-- in a transaction of its own (both replicate on BDR 1).',
        ].join('\n'),
      };
    }
    case 'RefreshMatViewStmt': {
      const q = rangeVarName(f.relation);
      return {
        message: `BDR 1 rejects REFRESH MATERIALIZED VIEW ${shown(q)}: ${notSupported('REFRESH MATERIALIZED VIEW')}`,
        suggestion: [
          `-- Keep the data in a table instead of a materialized view and refresh it in a transaction of its own:`,
          `BEGIN;`,
          `TRUNCATE ${formatName(q)};`,
          `INSERT INTO ${formatName(q)} SELECT /* the view's query */;`,
          `COMMIT;`,
        ].join('\n'),
      };
    }
    case 'CreateExtensionStmt': {
      // CREATE LANGUAGE without a handler: today's grammar turns it into CREATE EXTENSION, PostgreSQL 9.4 does not.
      if (!top || !leadingWords(stmt, 5).includes('LANGUAGE')) return undefined;
      return createLanguage(f.extname);
    }
    case 'CreatePLangStmt':
      return createLanguage(f.plname);
    case 'RenameStmt': {
      const tag = BDR1_NO_RENAME[f.renameType];
      if (!tag) return undefined;
      return {
        message: `BDR 1 rejects ${tag} ... RENAME TO "${f.newname}": ${notSupported(tag)}`,
        suggestion: [`-- Create it under the new name (same definition) and drop the old one, or keep the name.`, ...perNode(sql)].join('\n'),
      };
    }
    case 'AlterObjectSchemaStmt':
      return setSchema(ctx, node);
    case 'SecLabelStmt': {
      if (!f.provider || String(f.provider) === 'bdr') return undefined;
      return {
        message: `BDR 1 rejects SECURITY LABEL FOR ${f.provider}: ${notSupported('SECURITY LABEL')} (only the bdr provider, used for replication sets, is accepted)`,
        suggestion: perNode(sql).join('\n'),
      };
    }
    case 'DropStmt': {
      if (f.removeType !== 'OBJECT_EXTENSION') return undefined;
      if (!(f.objects ?? []).some((o: AstValue) => strVal(o) === 'bdr')) return undefined;
      return {
        message:
          'BDR 1 rejects DROP EXTENSION bdr while BDR is active: "Dropping the BDR extension is prohibited while BDR is active"',
        suggestion: [
          '-- Remove the node from the BDR group first (outside a migration), then drop the extension:',
          "SELECT bdr.bdr_part_by_node_names(ARRAY['node_name']);",
          '-- or, on a node that is already parted: SELECT bdr.remove_bdr_from_local_node();',
        ].join('\n'),
      };
    }
    case 'CreateSeqStmt':
      return bdr1Sequence(ctx, node, top);
    case 'AlterSeqStmt': {
      const q = rangeVarName(f.sequence);
      const seq = ctx.catalog.sequence(q);
      // Global: created USING bdr, or while default_sequenceam = 'bdr' was in effect (spec §7.4).
      const byDefault = seq?.global ? undefined : globalByDefaultAm(ctx.model, ctx.catalog, stmt, q);
      if (!seq?.global && !byDefault) return undefined;
      const bad = (f.options ?? []).map(fields).filter((o: AstValue) => o.defname !== 'owned_by');
      if (bad.length === 0) return undefined;
      const how = byDefault ? `created with default_sequenceam = 'bdr' at line ${byDefault.file.source.position(byDefault.start).line}` : 'USING bdr';
      return {
        message: `BDR 1 rejects ALTER SEQUENCE ${shown(q)} on a global (${how}) sequence: "ALTER SEQUENCE ... ${bad[0].defname} is not supported for bdr sequences" ${BDR1_SQLSTATE}`,
        suggestion: '-- A global sequence accepts only OWNED BY in ALTER SEQUENCE: remove the other options (its values come in chunks the nodes vote on).',
      };
    }
    case 'CreatedbStmt':
    case 'DropdbStmt':
      return supervisorDb(f.dbname, type === 'CreatedbStmt' ? 'CREATE DATABASE' : 'DROP DATABASE');
    default: {
      const tag = SIMPLE_TAGS[type];
      if (!tag) return undefined;
      return simple(ctx, type, tag, node, sql);
    }
  }
}

function createLanguage(name: string): Rejection {
  return {
    message: `BDR 1 rejects CREATE LANGUAGE ${name}: ${notSupported('CREATE LANGUAGE')}`,
    suggestion: ['-- Install the language as an extension (CREATE EXTENSION is replicated; the files must be on every node):', `CREATE EXTENSION IF NOT EXISTS ${formatName({ name })};`].join('\n'),
  };
}

function supervisorDb(name: string, tag: string): Rejection | undefined {
  if (name !== 'bdr_supervisordb') return undefined;
  return {
    message: `BDR 1 rejects ${tag} bdr_supervisordb: "The BDR extension reserves the database name bdr_supervisordb for its own use" (SQLSTATE 42939)`,
    suggestion: '-- Use a different database name.',
  };
}

/** The object a statement of BDR 1's prohibited list names, for messages ('' when it names none). */
function objectOf(type: string, f: AstValue): string {
  const role = (r: AstValue): string => (r?.rolename ? `"${r.rolename}"` : roleSql(r));
  switch (type) {
    case 'CreateFdwStmt':
    case 'AlterFdwStmt':
      return `"${f.fdwname}"`;
    case 'CreateForeignServerStmt':
    case 'AlterForeignServerStmt':
      return `"${f.servername}"`;
    case 'CreateUserMappingStmt':
    case 'AlterUserMappingStmt':
    case 'DropUserMappingStmt':
      return `FOR ${role(f.user)} SERVER "${f.servername}"`;
    case 'CreateCastStmt':
      return `(${typeSql(f.sourcetype)} AS ${typeSql(f.targettype)})`;
    case 'CreateOpClassStmt':
      return `${shown(listName(f.opclassname))} USING ${f.amname}`;
    case 'CreateOpFamilyStmt':
    case 'AlterOpFamilyStmt':
      return `${shown(listName(f.opfamilyname))} USING ${f.amname}`;
    case 'CreateConversionStmt':
      return shown(listName(f.conversion_name));
    case 'DropOwnedStmt':
      return `BY ${(f.roles ?? []).map((r: AstValue) => role(fields(r))).join(', ')}`;
    case 'RefreshMatViewStmt':
      return f.relation ? shown(rangeVarName(f.relation)) : '';
    default:
      return '';
  }
}

function simple(ctx: StatementContext, type: string, tag: string, node: AstValue, sql: string): Rejection {
  const f = fields(node);
  const object = objectOf(type, f);
  let what = object ? `${tag} ${object}` : tag;
  let advice: string[];
  switch (type) {
    case 'AlterDomainStmt':
      what = `ALTER DOMAIN ${shown(listName(f.typeName))}`;
      advice = [
        '-- Put the constraint or default on the columns that use the domain instead',
        '-- (ALTER TABLE ... ADD CONSTRAINT ... CHECK (...) / ALTER COLUMN ... SET DEFAULT are allowed on BDR 1).',
        ...perNode(sql),
      ];
      break;
    case 'AlterExtensionStmt':
    case 'AlterExtensionContentsStmt':
      what = `ALTER EXTENSION ${f.extname}`;
      advice = ['-- Update the extension on each node; its files must be installed on every node first.', ...perNode(sql)];
      break;
    case 'RefreshMatViewStmt':
      advice = perNode(sql);
      break;
    case 'CreateCastStmt':
    case 'CreateOpClassStmt':
    case 'CreateOpFamilyStmt':
    case 'AlterOpFamilyStmt':
    case 'CreateConversionStmt':
      advice = [...inExtension(tag.replace(/^(CREATE|ALTER) /, '').toLowerCase()), ...perNode(sql)];
      break;
    case 'AlterTSDictionaryStmt':
    case 'AlterTSConfigurationStmt':
      what = `${tag} ${shown(listName(f.dictname ?? f.cfgname))}`;
      advice = [...inExtension('text search objects'), ...perNode(sql)];
      break;
    case 'DropOwnedStmt':
      advice = [
        '-- Drop the objects by name (DROP TABLE / DROP FUNCTION / ... are replicated) and revoke their',
        '-- privileges with REVOKE, instead of DROP OWNED.',
      ];
      break;
    default:
      // Foreign data wrappers, servers and user mappings.
      advice = ['-- Foreign servers and user mappings are node-local configuration on BDR 1: create them on each node.', ...perNode(sql)];
  }
  void ctx;
  return { message: `BDR 1 rejects ${what}: ${notSupported(tag)}`, suggestion: advice.join('\n') };
}

function bdr1AlterTable(ctx: StatementContext, node: AstValue): Rejection | undefined {
  const { stmt } = ctx;
  const f = fields(node);
  if (persistenceOf(ctx, f.relation, f.objtype) !== 'permanent') return undefined;
  const q = rangeVarName(f.relation);
  const named: string[] = [];
  const words: string[] = [];
  let unlisted = false;
  for (const c of (f.cmds ?? []).map(fields)) {
    if (BDR1_AT_ALLOWED.has(c.subtype) || BDR1_AT_ELSEWHERE.has(c.subtype)) continue;
    const w = variantWords(c.subtype, stmt);
    if (!words.includes(w)) words.push(w);
    const tag = BDR1_AT_REJECTED[c.subtype];
    if (tag) {
      if (!named.includes(tag)) named.push(tag);
    } else unlisted = true;
  }
  if (named.length === 0 && !unlisted) return undefined;
  const tag = named[0] ?? 'This variant of ALTER TABLE';
  const others = [...named.slice(1), ...(unlisted && named.length > 0 ? ['This variant of ALTER TABLE'] : [])];
  const also = others.length > 0 ? ` (also rejected in the same statement: ${others.join('; ')})` : '';
  const kinds = f.objtype === 'OBJECT_INDEX' ? 'index' : f.objtype === 'OBJECT_FOREIGN_TABLE' ? 'foreign table' : 'table';
  const advice: string[] = [];
  const all = [...named, ...(unlisted ? ['This variant of ALTER TABLE'] : [])];
  for (const t of all) {
    if (t.includes('ALTER CONSTRAINT')) {
      advice.push(...alterConstraintAdvice(ctx, q, (f.cmds ?? []).map(fields).find((c: AstValue) => c.subtype === 'AT_AlterConstraint')));
    } else if (t.includes('OIDS')) {
      advice.push('-- Leave the OIDs as they are: BDR 1 tables have none. Give rows a key column of their own instead.');
    } else if (t.includes('RULE')) {
      advice.push('-- Drop the rule (DROP RULE) or create it again (CREATE RULE): both replicate on BDR 1.');
    } else if (t.includes('INHERIT')) {
      advice.push('-- Create the child table with INHERITS (...) from the start, or copy its rows into a new table.');
    } else if (t.includes('[NOT] OF')) {
      advice.push('-- Typed tables cannot be changed on BDR 1: create a new table with the columns you need and copy the rows.');
    } else if (t.includes('OPTIONS') || t === 'ALTER TABLE ... SET (...)') {
      advice.push('-- Drop and create the foreign table again with the options you want (DROP/CREATE FOREIGN TABLE are allowed).');
    } else if (t.includes('SET STATISTICS|')) {
      advice.push('-- Per-column options (n_distinct, ...) only tune the planner: leave them out, or set them on each node:');
      advice.push(...perNode(sqlOf(stmt, node)));
    } else {
      advice.push(
        '-- On a permanent table BDR 1 only allows: ADD COLUMN (without DEFAULT), DROP COLUMN, SET/DROP NOT NULL,',
        '-- SET/DROP DEFAULT, ADD/DROP/VALIDATE CONSTRAINT, CLUSTER ON, SET WITHOUT CLUSTER, OWNER TO, SET STORAGE,',
        '-- SET STATISTICS, SET/RESET (storage parameters), REPLICA IDENTITY, SET TABLESPACE, ENABLE/DISABLE TRIGGER.',
        '-- Express the change with those, or create a new table and copy the rows.',
      );
    }
  }
  return {
    message: `BDR 1 rejects ALTER ${kinds.toUpperCase()} ${shown(q)} ${words.join(', ')} on a permanent ${kinds}: ${onlyUnlogged(tag, q.name)}${also}`,
    suggestion: [...new Set(advice)].join('\n'),
  };
}

/**
 * ALTER CONSTRAINT (deferrability of a foreign key) on BDR 1: drop the constraint and add it again
 * with the new attributes, NOT VALID, then validate it in a transaction of its own.
 */
function alterConstraintAdvice(ctx: StatementContext, q: QualifiedName, cmd: AstValue): string[] {
  const alter = as(cmd?.def, 'ATAlterConstraint') ?? as(cmd?.def, 'Constraint') ?? {};
  const name = String(alter.conname ?? 'constraint_name');
  const known = ctx.table(q)?.constraints.get(name);
  const columns = known && known.columns.length > 0 ? known.columns.map((c) => formatName({ name: c })).join(', ') : 'fk_column';
  const timing = alter.deferrable ? ` DEFERRABLE INITIALLY ${alter.initdeferred ? 'DEFERRED' : 'IMMEDIATE'}` : ' NOT DEFERRABLE';
  const table = formatName(q);
  const con = formatName({ name });
  return [
    '-- Drop the foreign key and add it again with the new timing (DROP / ADD / VALIDATE CONSTRAINT are allowed on',
    `-- BDR 1), with its own columns and referenced table${known ? '' : ' (not known to the linter: fill them in)'}:`,
    'BEGIN;',
    `ALTER TABLE ${table} DROP CONSTRAINT ${con};`,
    `ALTER TABLE ${table} ADD CONSTRAINT ${con} FOREIGN KEY (${columns}) REFERENCES referenced_table (key_column)${timing} NOT VALID;`,
    'COMMIT;',
    '-- then, in a transaction of its own:',
    `ALTER TABLE ${table} VALIDATE CONSTRAINT ${con};`,
  ];
}

/** The words of an ALTER TABLE variant, for messages. */
const VARIANT_WORDS: Record<string, string> = {
  AT_AlterConstraint: 'ALTER CONSTRAINT',
  AT_AlterColumnGenericOptions: 'ALTER COLUMN ... OPTIONS',
  AT_DropOids: 'SET WITHOUT OIDS',
  AT_AddOids: 'SET WITH OIDS',
  AT_EnableRule: 'ENABLE RULE',
  AT_EnableAlwaysRule: 'ENABLE ALWAYS RULE',
  AT_EnableReplicaRule: 'ENABLE REPLICA RULE',
  AT_DisableRule: 'DISABLE RULE',
  AT_AddInherit: 'INHERIT',
  AT_DropInherit: 'NO INHERIT',
  AT_AddOf: 'OF',
  AT_DropOf: 'NOT OF',
  AT_SetOptions: 'ALTER COLUMN ... SET (...)',
  AT_ResetOptions: 'ALTER COLUMN ... RESET (...)',
  AT_GenericOptions: 'OPTIONS (...)',
  AT_SetLogged: 'SET LOGGED',
  AT_SetUnLogged: 'SET UNLOGGED',
  AT_EnableRowSecurity: 'ENABLE ROW LEVEL SECURITY',
  AT_DisableRowSecurity: 'DISABLE ROW LEVEL SECURITY',
  AT_ForceRowSecurity: 'FORCE ROW LEVEL SECURITY',
  AT_NoForceRowSecurity: 'NO FORCE ROW LEVEL SECURITY',
  AT_AttachPartition: 'ATTACH PARTITION',
  AT_DetachPartition: 'DETACH PARTITION',
  AT_DetachPartitionFinalize: 'DETACH PARTITION ... FINALIZE',
  AT_AddIdentity: 'ALTER COLUMN ... ADD GENERATED AS IDENTITY',
  AT_SetIdentity: 'ALTER COLUMN ... SET GENERATED',
  AT_DropIdentity: 'ALTER COLUMN ... DROP IDENTITY',
  AT_SetExpression: 'ALTER COLUMN ... SET EXPRESSION',
  AT_DropExpression: 'ALTER COLUMN ... DROP EXPRESSION',
  AT_SetCompression: 'ALTER COLUMN ... SET COMPRESSION',
  AT_SetAccessMethod: 'SET ACCESS METHOD',
};

function variantWords(subtype: string, stmt: Stmt): string {
  if (subtype === 'AT_DropOids' && stmt.legacy.withOids) return 'SET WITH OIDS';
  return VARIANT_WORDS[subtype] ?? subtype.replace(/^AT_/, '');
}

function setSchema(ctx: StatementContext, node: AstValue): Rejection {
  const { stmt } = ctx;
  const f = fields(node);
  const tag = alterTag(f.objectType);
  const target = f.newschema;
  let name: string;
  let advice: string[];
  if (f.relation) {
    const q = rangeVarName(f.relation);
    name = shown(q);
    const newName = formatName({ schema: target, name: q.name });
    if (f.objectType === 'OBJECT_TABLE') {
      advice = [
        `-- Create the table in schema ${target} in the first place. For an existing table, either keep it where it is`,
        `-- and give the new schema a view of it (simple views are updatable):`,
        `CREATE VIEW ${newName} AS SELECT * FROM ${formatName(q)};`,
        `-- or move its rows: (own transaction) CREATE TABLE ${newName} (LIKE ${formatName(q)} INCLUDING ALL);`,
        `-- (own transaction) INSERT INTO ${newName} SELECT * FROM ${formatName(q)};  then DROP TABLE ${formatName(q)};`,
      ];
    } else {
      advice = [`-- Create it in schema ${target} (same definition) and drop the old one: ALTER ... SET SCHEMA is rejected.`];
    }
  } else {
    const obj = as(f.object, 'ObjectWithArgs');
    const parts = obj ? names(obj.objname) : as(f.object, 'List') ? names(as(f.object, 'List').items) : [strVal(f.object) ?? ''];
    name = `"${parts.join('.')}"`;
    advice = [`-- Create it in schema ${target} with the same definition (CREATE ... ${target}.${parts[parts.length - 1]} ...) and drop the old one.`];
  }
  void stmt;
  return {
    message: `BDR 1 rejects ${tag} ${name} SET SCHEMA ${target}: ${notSupported(tag)} (BDR 1 rejects ALTER ... SET SCHEMA for every kind of object)`,
    suggestion: advice.join('\n'),
  };
}

function bdr1Sequence(ctx: StatementContext, node: AstValue, top: boolean): Rejection | undefined {
  const { stmt } = ctx;
  const f = fields(node);
  if (!top || f.sequence?.relpersistence === 't') return undefined;
  // USING bdr, or no USING while default_sequenceam = 'bdr' is in effect (spec §7.4).
  const viaDefault = stmt.legacy.sequenceUsing === undefined && settingBefore(stmt, 'default_sequenceam').value === 'bdr';
  if (stmt.legacy.sequenceUsing !== 'bdr' && !viaDefault) return undefined;
  const bad = (f.options ?? []).map(fields).filter((o: AstValue) => o.defname !== 'owned_by' && o.defname !== 'start');
  if (bad.length === 0) return undefined;
  const q = rangeVarName(f.sequence);
  const kept = clone(node);
  kept.CreateSeqStmt.options = (f.options ?? []).filter((o: AstValue) => ['owned_by', 'start'].includes(fields(o).defname));
  if (kept.CreateSeqStmt.options.length === 0) delete kept.CreateSeqStmt.options;
  return {
    message: `BDR 1 rejects CREATE SEQUENCE ${shown(q)} ${viaDefault ? "(a global sequence: default_sequenceam = 'bdr' is in effect)" : '... USING bdr'} with ${bad.map((o: AstValue) => String(o.defname).toUpperCase()).join(', ')}: "CREATE SEQUENCE ... ${bad[0].defname} is not supported for bdr sequences" ${BDR1_SQLSTATE}`,
    suggestion: [
      '-- A global sequence accepts only START and OWNED BY (its values come in chunks the nodes vote on):',
      `${sqlOf(stmt, kept)}${viaDefault ? '' : ' USING bdr'};`,
    ].join('\n'),
  };
}

/** The relations an UPDATE / DELETE writes: the statement's own and those of data-modifying CTEs. */
function writtenRelations(stmt: Stmt): Array<{ verb: string; rv: AstValue }> {
  const out: Array<{ verb: string; rv: AstValue }> = [];
  const f = stmt.f;
  if (stmt.type === 'UpdateStmt' || stmt.type === 'DeleteStmt') out.push({ verb: stmt.type === 'UpdateStmt' ? 'UPDATE' : 'DELETE', rv: f.relation });
  if (!['UpdateStmt', 'DeleteStmt', 'InsertStmt', 'SelectStmt'].includes(stmt.type)) return out;
  walk(f.withClause, (type, v) => {
    if (type === 'UpdateStmt' || type === 'DeleteStmt') out.push({ verb: type === 'UpdateStmt' ? 'UPDATE' : 'DELETE', rv: v.relation });
    return undefined;
  });
  return out;
}

/**
 * UPDATE / DELETE on a permanent table that has neither a primary key nor a REPLICA IDENTITY USING
 * INDEX (spec §7.4; BDR 1 checks it when the statement starts, whatever the session settings). Only
 * tables the migrations created are known well enough to say so.
 */
function withoutPrimaryKey(ctx: StatementContext): Rejection[] {
  const out: Rejection[] = [];
  for (const { verb, rv } of writtenRelations(ctx.stmt)) {
    if (!rv || persistenceOf(ctx, rv) !== 'permanent') continue;
    const q = rangeVarName(rv);
    const table = ctx.table(q);
    if (!table || table.kind !== 'table' || table.primaryKey) continue;
    if (replicaIdentityAt(ctx.model, ctx.catalog, ctx.stmt, q) === 'i') continue;
    const unique = [...table.constraints.values()].find((c) => c.kind === 'unique' && c.columns.length > 0);
    const idColumn = table.columns.has('id') ? ['id'] : undefined;
    const candidate = unique?.columns ?? idColumn;
    const columns = candidate ?? (table.columns.size > 0 ? [...table.columns.keys()] : ['id']);
    const keySql = columns.map((c) => formatName({ name: c })).join(', ');
    out.push({
      message: `BDR 1 rejects ${verb} on ${shown(q)}: the table has no primary key ("Cannot run UPDATE or DELETE on table ${table.name} because it does not have a primary key.", spec §7.4); BDR 1 needs a key to find the row on the other nodes`,
      suggestion: [
        '-- Give the table a primary key first, in a transaction of its own (ADD PRIMARY KEY takes only the',
        `-- global DDL lock on BDR 1)${candidate ? '' : '; no column is known to be unique, so this lists them all: keep the ones that identify a row (unique and NOT NULL)'}:`,
        `ALTER TABLE ${formatName(q)} ADD PRIMARY KEY (${keySql});`,
        `-- then run the ${verb}.`,
      ].join('\n'),
    });
  }
  return out;
}

/**
 * Names in bdr.bdr_replicate_ddl_command(): BDR 1 runs the command with search_path = '' here and
 * on every node ("must be fully schema-qualified", spec §7.1), so an unqualified relation is not
 * found and an unqualified CREATE has no schema to create in.
 */
function unqualifiedNames(ctx: StatementContext): Rejection | undefined {
  const { stmt } = ctx;
  if (!stmt.node) return undefined;
  const { node: fixed, bare } = qualifyRelations(stmt.node, ctx.catalog);
  if (bare.length === 0) return undefined;
  let call: string;
  try {
    call = `SELECT bdr.bdr_replicate_ddl_command(${dollarQuote(deparse(fixed))});`;
  } catch {
    call = `SELECT bdr.bdr_replicate_ddl_command($ddl$ /* the command, with every name schema-qualified */ $ddl$);`;
  }
  const list = bare.map((n) => `"${n}"`).join(', ');
  return {
    message: `BDR 1 runs bdr.bdr_replicate_ddl_command() with search_path = '' (spec §7.1: names "must be fully schema-qualified"): ${list} ${bare.length > 1 ? 'are' : 'is'} not schema-qualified, so the command fails (relation does not exist, or no schema has been selected to create in)`,
    suggestion: ['-- Qualify every name with its schema:', call].join('\n'),
  };
}

// ---- PGD / BDR 3 (spec §1.3, §2.2, §3, §6) -------------------------------------------------------

const PGD_SQLSTATE = 'feature_not_supported (SQLSTATE 0A000)';

function pgd(ctx: StatementContext): Rejection[] {
  const { stmt, target } = ctx;
  const product = productName(target);
  const out: Rejection[] = [];
  for (const node of units(stmt)) {
    const type = Object.keys(node)[0];
    const f = fields(node);
    const top = node === stmt.node;
    switch (type) {
      case 'AlterOwnerStmt':
        if (f.objectType === 'OBJECT_LARGEOBJECT') {
          const oid = strVal(f.object) ?? '';
          out.push({
            message: `${product} does not allow ALTER LARGE OBJECT ${oid} (the only command its DDL matrix marks "not allowed", spec §2.2): it fails with ${PGD_SQLSTATE}`,
            suggestion: [
              '-- No workaround is documented. Large objects live in pg_largeobject, which logical replication does not',
              '-- carry; keep such data in a bytea column of a replicated table instead. To give another role access',
              '-- to this large object, grant it on every node (GRANT ON LARGE OBJECT is not replicated):',
              `SELECT bdr.run_on_all_nodes($ddl$ GRANT SELECT, UPDATE ON LARGE OBJECT ${oid} TO ${roleSql(f.newowner)} $ddl$);`,
            ].join('\n'),
          });
        }
        break;
      case 'CreateStmt':
        if ((top && stmt.legacy.withOids) || oidsOption(f.options)) {
          const q = rangeVarName(f.relation);
          const why = below(target, 5, 9)
            ? `${product} does not allow CREATE TABLE ... WITH OIDS (spec §2.2): it fails with ${PGD_SQLSTATE}`
            : `PostgreSQL 12 and later (what ${product} runs on) no longer have WITH OIDS: the statement fails`;
          out.push({
            message: `CREATE TABLE ${shown(q)} WITH OIDS: ${why}`,
            suggestion: ['-- Create the table without OIDs; give rows a key column of their own if they need one:', `${sqlOf(stmt, withoutOids(node))};`].join('\n'),
          });
        }
        break;
      case 'AlterTableStmt':
        out.push(...pgdAlterTable(ctx, node));
        break;
      case 'CreateSchemaStmt':
        if (top && f.authrole && (f.schemaElts ?? []).length > 0 && below(target, 5, 6)) out.push(schemaAuthorization(ctx));
        break;
      case 'CreateSeqStmt':
      case 'AlterSeqStmt':
        // BDR 1's sequence access methods (CREATE / ALTER SEQUENCE ... USING bdr): PostgreSQL has no such clause.
        if (top && stmt.legacy.sequenceUsing !== undefined) {
          const q = rangeVarName(f.sequence);
          const verb = type === 'CreateSeqStmt' ? 'CREATE' : 'ALTER';
          const n = formatName(q);
          out.push({
            message: `${verb} SEQUENCE ${shown(q)} ... USING ${stmt.legacy.sequenceUsing} is BDR 1 syntax: the PostgreSQL that ${product} runs on has no USING clause for sequences, so the statement fails with a syntax error`,
            suggestion: [
              ...((f.options ?? []).length > 0 || verb === 'CREATE' ? [`-- ${verb === 'CREATE' ? 'Create' : 'Alter'} the sequence without USING:`, `${sqlOf(stmt)};`] : ['-- Leave out this statement.']),
              ...(stmt.legacy.sequenceUsing === 'bdr' ? ['-- A sequence every node can use: make it a galloc (globally allocated) sequence:', `SELECT bdr.alter_sequence_set_kind(${quoteLiteral(n)}::regclass, 'galloc');`] : []),
            ].join('\n'),
          });
        }
        break;
      case 'SelectStmt':
        if (target.family !== 'bdr3' && atLeast(target, 4, 1)) out.push(...snowflakeOnInteger(ctx));
        break;
      case 'RenameStmt':
      case 'AlterObjectSchemaStmt': {
        const kind = type === 'RenameStmt' ? f.renameType : f.objectType;
        const verb = type === 'RenameStmt' ? `RENAME TO "${f.newname}"` : `SET SCHEMA ${f.newschema}`;
        if (kind === 'OBJECT_TABLE' && f.relation) {
          const q = rangeVarName(f.relation);
          const by = autopartitionedBy(ctx.model, ctx.catalog, stmt, q);
          if (by) {
            const line = by.file.source.position(by.start).line;
            out.push({
              message: `${product} cannot ${type === 'RenameStmt' ? 'rename' : 'move'} the autopartitioned table ${shown(q)} (ALTER TABLE ... ${verb}; bdr.autopartition() at line ${line}): the statement is rejected (spec §3, §1.3)`,
              suggestion: [
                `-- Keep the table's name and schema; give the new name a view of it if the application needs one:`,
                `CREATE VIEW ${formatName(type === 'RenameStmt' ? { schema: q.schema, name: f.newname } : { schema: f.newschema, name: q.name })} AS SELECT * FROM ${formatName(q)};`,
              ].join('\n'),
            });
          }
        }
        // ALTER TABLE also renames and moves sequences (PostgreSQL accepts it for any relation).
        const seqViaTable = kind === 'OBJECT_TABLE' && f.relation && !ctx.table(rangeVarName(f.relation)) && !!ctx.catalog.sequence(rangeVarName(f.relation));
        if ((kind === 'OBJECT_SEQUENCE' || seqViaTable) && f.relation) {
          const q = rangeVarName(f.relation);
          const why = gallocReason(ctx.model, ctx.catalog, stmt, q, target);
          if (why) out.push(galloc(product, `${seqViaTable ? 'ALTER TABLE' : 'ALTER SEQUENCE'} ${shown(q)} ${verb}`, why));
        }
        if (type === 'RenameStmt' && f.renameType === 'OBJECT_SCHEMA') {
          const seqs = gallocSequencesInSchema(ctx.model, ctx.catalog, stmt, f.subname, target);
          if (seqs.length > 0) {
            out.push(galloc(product, `ALTER SCHEMA "${f.subname}" RENAME TO "${f.newname}"`, `it holds the galloc sequence ${seqs.map((s) => shown(s)).join(', ')}`));
          }
        }
        break;
      }
      default:
        break;
    }
  }
  return out;
}

/**
 * CREATE SCHEMA ... AUTHORIZATION role with elements: before PGD 5.6 it fails with "cannot change
 * current role within security-restricted operation" (5.6 release notes, spec §1.2; the versions
 * before 5.6 other than 5.0–5.5 are inferred).
 */
function schemaAuthorization(ctx: StatementContext): Rejection {
  const { stmt, target } = ctx;
  const f = stmt.f;
  const role = roleSql(f.authrole);
  const schema = f.schemaname ?? f.authrole?.rolename ?? 'schema_name';
  const steps: string[] = [`CREATE SCHEMA ${f.if_not_exists ? 'IF NOT EXISTS ' : ''}${formatName({ name: schema })} AUTHORIZATION ${role};`];
  const elements = units(stmt).slice(1);
  // Inside CREATE SCHEMA, unqualified names find the new schema's objects first: qualify them.
  const created = new Set<string>();
  for (const el of elements) {
    const rel = fields(el).relation ?? fields(el).view ?? fields(el).sequence;
    if (rel?.relname && Object.keys(el)[0] !== 'IndexStmt' && Object.keys(el)[0] !== 'CreateTrigStmt') created.add(rel.relname);
  }
  const qualify = (v: AstValue): void => {
    if (v === null || typeof v !== 'object') return;
    if (Array.isArray(v)) return v.forEach(qualify);
    if (typeof v.relname === 'string' && 'relpersistence' in v && !v.schemaname && created.has(v.relname)) v.schemaname = schema;
    for (const k of Object.keys(v)) qualify(v[k]);
  };
  for (const el of elements) {
    qualify(el);
    let sql: string;
    try {
      sql = deparse(el);
    } catch {
      sql = '/* the element */';
    }
    steps.push(`${sql};`);
    const ef = fields(el);
    const type = Object.keys(el)[0];
    const rel = ef.relation ?? ef.view ?? ef.sequence;
    const kind = type === 'CreateStmt' ? 'TABLE' : type === 'ViewStmt' ? 'VIEW' : type === 'CreateSeqStmt' ? 'SEQUENCE' : undefined;
    if (kind && rel) steps.push(`ALTER ${kind} ${formatName(rangeVarName(rel))} OWNER TO ${role};`);
  }
  return {
    message: `${productName(target)} fails on CREATE SCHEMA ${f.schemaname ? `"${f.schemaname}" ` : ''}AUTHORIZATION ${role} with the objects it creates: "cannot change current role within security-restricted operation" (fixed in PGD 5.6, spec §1.2${below(target, 5, 0) ? '; inferred for this version from the 5.6 release notes' : ''})`,
    suggestion: [
      '-- Create the schema on its own, then each object in it, and hand the objects to the role',
      '-- (CREATE SCHEMA ... AUTHORIZATION makes the role own them):',
      ...steps,
    ].join('\n'),
  };
}

/** bdr.alter_sequence_set_kind(seq, 'snowflakeid') on a smallint / integer sequence (spec §6: snowflakeid is bigint only). */
function snowflakeOnInteger(ctx: StatementContext): Rejection[] {
  const { stmt, target } = ctx;
  const out: Rejection[] = [];
  for (const call of setKindCalls(stmt)) {
    if (call.kind !== 'snowflakeid') continue;
    const by = intSequenceCreatedBy(ctx.model, ctx.catalog, stmt, call.seq);
    if (!by) continue;
    const line = by.file.source.position(by.start).line;
    const where = by.file === stmt.file ? `line ${line}` : `${by.file.path}:${line}`;
    const literal = `'${call.written.replace(/'/g, "''")}'`;
    out.push({
      message: `${productName(target)} cannot make ${shown(call.seq)} a snowflakeid sequence: snowflakeid is for bigint sequences only (spec §6), and ${shown(call.seq)} is a smallint or integer sequence (created at ${where}); the call fails (inferred: the error text is not documented)`,
      suggestion: [
        '-- Use galloc for an integer sequence (chunks of values per node; a new chunk needs a majority of nodes):',
        `SELECT bdr.alter_sequence_set_kind(${literal}::regclass, 'galloc');`,
        '-- or make the sequence and its column bigint first (ALTER SEQUENCE ... AS bigint; the column type change',
        '-- rewrites the table), then convert it to snowflakeid.',
      ].join('\n'),
    });
  }
  return out;
}

function galloc(product: string, what: string, why: string): Rejection {
  return {
    message: `${product} rejects ${what}: galloc sequences cannot be renamed or moved to another schema, nor can the schema that holds one be renamed (spec §2.2, §6); ${why}`,
    suggestion: [
      '-- Keep the sequence name and schema. If the name must change, create a new sequence, make it galloc with a',
      '-- start above every value handed out so far, point the column default at it, then drop the old one:',
      "-- SELECT bdr.alter_sequence_set_kind('new_seq'::regclass, 'galloc', <start above max used>);",
    ].join('\n'),
  };
}

function roleSql(spec: AstValue): string {
  if (!spec) return 'some_role';
  if (spec.roletype === 'ROLESPEC_CURRENT_USER') return 'CURRENT_USER';
  if (spec.roletype === 'ROLESPEC_SESSION_USER') return 'SESSION_USER';
  if (spec.roletype === 'ROLESPEC_CURRENT_ROLE') return 'CURRENT_ROLE';
  return formatName({ name: spec.rolename ?? 'some_role' });
}

function pgdAlterTable(ctx: StatementContext, node: AstValue): Rejection[] {
  const { stmt, target } = ctx;
  const product = productName(target);
  const f = fields(node);
  const q = rangeVarName(f.relation);
  const persistence = persistenceOf(ctx, f.relation, f.objtype);
  const out: Rejection[] = [];
  for (const c of (f.cmds ?? []).map(fields)) {
    if (c.subtype === 'AT_DropOids' || c.subtype === 'AT_AddOids') {
      const withOids = stmt.legacy.withOids || c.subtype === 'AT_AddOids';
      if (below(target, 5, 9)) {
        out.push({
          message: `${product} does not allow ALTER TABLE ${shown(q)} SET ${withOids ? 'WITH' : 'WITHOUT'} OIDS (spec §3): it fails with ${PGD_SQLSTATE}`,
          suggestion: '-- Remove this subcommand: PostgreSQL 12+ tables have no OIDs, and PGD rejects SET WITH/WITHOUT OIDS.',
        });
      } else if (withOids) {
        out.push({
          message: `ALTER TABLE ${shown(q)} SET WITH OIDS: PostgreSQL 12 and later (what ${product} runs on) no longer have OIDs; the statement fails`,
          suggestion: '-- Remove this subcommand; give rows a key column of their own if they need one.',
        });
      }
    }
    if (persistence !== 'permanent') continue; // not replicated: PGD's replication checks do not apply
    if (c.subtype === 'AT_SetStorage' && String(strVal(c.def) ?? '').toLowerCase() === 'external') {
      const r = storageExternal(ctx, q, c.name);
      if (r) out.push(r);
    }
    if (c.subtype === 'AT_AddColumn' && below(target, 5, 6)) {
      const cd = as(c.def, 'ColumnDef');
      const gen = (cd?.constraints ?? []).map(fields).find((k: AstValue) => k.contype === 'CONSTR_GENERATED');
      if (gen && hasColumnRef(gen.raw_expr)) {
        out.push({
          message: `${product} rejects column references in the expression of an added column: ALTER TABLE ${shown(q)} ADD COLUMN "${cd.colname}" GENERATED ALWAYS AS (...) STORED fails (allowed from PGD 5.6; inferred from the 5.6 release notes, spec §3)`,
          suggestion: [
            `-- Add a plain column, fill it in batches in transactions of their own, and keep it current with a`,
            `-- BEFORE INSERT OR UPDATE trigger; or upgrade to PGD 5.6 or later:`,
            `ALTER TABLE ${formatName(q)} ADD COLUMN ${formatName({ name: cd.colname })} ${typeSql(cd.typeName)};`,
          ].join('\n'),
        });
      }
    }
  }
  return out;
}

function typeSql(t: AstValue): string {
  try {
    return deparse({ TypeName: t });
  } catch {
    return names(t?.names).filter((n) => n !== 'pg_catalog').join('.');
  }
}

function hasColumnRef(expr: AstValue): boolean {
  let found = false;
  walk(expr, (type) => {
    if (type === 'ColumnRef') found = true;
    return found ? false : undefined;
  });
  return found;
}

/** True when the table was created with bdr.default_replica_identity at its default (auto) or 'full' (spec §4). */
function defaultIdentityFull(ctx: StatementContext, table: { origin: { stmtId: number } }): boolean {
  const created = findStatement(ctx, table.origin.stmtId);
  if (!created) return false;
  const value = settingBefore(created, 'bdr.default_replica_identity').value;
  return value === undefined || value === 'auto' || value === 'full';
}

function findStatement(ctx: StatementContext, id: number): Stmt | undefined {
  for (const file of ctx.model.files) for (const s of file.statements) if (s.id === id) return s;
  return undefined;
}

/** SET STORAGE EXTERNAL on a column of the replica identity (spec §3, §1.3). */
function storageExternal(ctx: StatementContext, q: QualifiedName, column: string): Rejection | undefined {
  const { stmt, target } = ctx;
  const product = productName(target);
  const table = ctx.table(q);
  if (!table) return undefined; // unknown table: its replica identity is unknown
  const ri = replicaIdentityAt(ctx.model, ctx.catalog, stmt, q);
  let why: string | undefined;
  if (ri === 'f') why = 'the table has REPLICA IDENTITY FULL, so every column is in it';
  else if (ri === 'i') {
    // REPLICA IDENTITY USING INDEX: the index's key columns (an index the run created, or the
    // index behind a PRIMARY KEY / UNIQUE constraint of that name).
    const index = replicaIdentityIndexAt(ctx.model, ctx.catalog, stmt, q);
    const columns = index !== undefined ? (indexColumnsAt(ctx.model, ctx.catalog, stmt, q, index) ?? table.constraints.get(index)?.columns) : undefined;
    if (index !== undefined && columns?.includes(column)) why = `"${column}" is a key column of index "${index}", the table's REPLICA IDENTITY USING INDEX`;
  } else if (ri === undefined || ri === 'd') {
    const pk = [...table.constraints.values()].find((c) => c.kind === 'primary');
    if (pk && pk.columns.includes(column)) why = `"${column}" is part of the primary key, the default replica identity`;
    else if (!pk && ri === undefined && target.family !== 'bdr3' && table.kind === 'table' && !table.parent && defaultIdentityFull(ctx, table)) {
      // bdr.default_replica_identity = auto (PGD 4+, spec §4): a table created without a primary key
      // gets REPLICA IDENTITY FULL.
      why = 'the table has no primary key, so PGD gave it REPLICA IDENTITY FULL (bdr.default_replica_identity = auto, spec §4; inferred) and every column is in it';
    }
  }
  if (!why) return undefined;
  const overridable = atLeast(target, 5, 9);
  if (overridable && isOn(settingBefore(stmt, 'bdr.permit_unsafe_commands').value)) return undefined;
  const lines = [
    `-- Keep the column's default storage (EXTENDED: compressed, out of line only when large). PGD needs the`,
    `-- replica identity's values in every row change it replicates.`,
  ];
  if (overridable) {
    lines.push(
      `-- ${product} lets a bdr_superuser override the check, at your own risk:`,
      'BEGIN;',
      'SET LOCAL bdr.permit_unsafe_commands = on;',
      `ALTER TABLE ${formatName(q)} ALTER COLUMN ${formatName({ name: column })} SET STORAGE EXTERNAL;`,
      'COMMIT;',
    );
  }
  return {
    message: `${product} rejects ALTER TABLE ${shown(q)} ALTER COLUMN "${column}" SET STORAGE EXTERNAL: ${why} (spec §3, §1.3); it fails with ${PGD_SQLSTATE}`,
    suggestion: lines.join('\n'),
  };
}
