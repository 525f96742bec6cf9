/**
 * The command tag of a statement, as PostgreSQL names it (CreateCommandTag): "CREATE TABLE",
 * "ALTER TABLE", "INSERT", ... for messages that name a statement in a few words.
 */
import { AstValue, fields, nodeType } from './ast';

const OBJECT_WORDS: Record<string, string> = {
  OBJECT_TABLE: 'TABLE',
  OBJECT_INDEX: 'INDEX',
  OBJECT_SEQUENCE: 'SEQUENCE',
  OBJECT_VIEW: 'VIEW',
  OBJECT_MATVIEW: 'MATERIALIZED VIEW',
  OBJECT_FOREIGN_TABLE: 'FOREIGN TABLE',
  OBJECT_TYPE: 'TYPE',
  OBJECT_DOMAIN: 'DOMAIN',
  OBJECT_FUNCTION: 'FUNCTION',
  OBJECT_PROCEDURE: 'PROCEDURE',
  OBJECT_ROUTINE: 'ROUTINE',
  OBJECT_AGGREGATE: 'AGGREGATE',
  OBJECT_SCHEMA: 'SCHEMA',
  OBJECT_TRIGGER: 'TRIGGER',
  OBJECT_RULE: 'RULE',
  OBJECT_POLICY: 'POLICY',
  OBJECT_EXTENSION: 'EXTENSION',
  OBJECT_COLUMN: 'TABLE',
  OBJECT_TABCONSTRAINT: 'TABLE',
  OBJECT_ATTRIBUTE: 'TYPE',
  OBJECT_ROLE: 'ROLE',
  OBJECT_DATABASE: 'DATABASE',
  OBJECT_TABLESPACE: 'TABLESPACE',
  OBJECT_COLLATION: 'COLLATION',
  OBJECT_CONVERSION: 'CONVERSION',
  OBJECT_OPERATOR: 'OPERATOR',
  OBJECT_PUBLICATION: 'PUBLICATION',
  OBJECT_SUBSCRIPTION: 'SUBSCRIPTION',
  OBJECT_STATISTIC_EXT: 'STATISTICS',
  OBJECT_EVENT_TRIGGER: 'EVENT TRIGGER',
};

const SIMPLE: Record<string, string> = {
  CreateStmt: 'CREATE TABLE',
  IndexStmt: 'CREATE INDEX',
  CreateSeqStmt: 'CREATE SEQUENCE',
  AlterSeqStmt: 'ALTER SEQUENCE',
  ViewStmt: 'CREATE VIEW',
  CreateEnumStmt: 'CREATE TYPE',
  AlterEnumStmt: 'ALTER TYPE',
  CompositeTypeStmt: 'CREATE TYPE',
  CreateRangeStmt: 'CREATE TYPE',
  AlterTypeStmt: 'ALTER TYPE',
  CreateDomainStmt: 'CREATE DOMAIN',
  AlterDomainStmt: 'ALTER DOMAIN',
  CreateExtensionStmt: 'CREATE EXTENSION',
  AlterExtensionStmt: 'ALTER EXTENSION',
  CreateSchemaStmt: 'CREATE SCHEMA',
  CreateTrigStmt: 'CREATE TRIGGER',
  CreatePolicyStmt: 'CREATE POLICY',
  AlterPolicyStmt: 'ALTER POLICY',
  RuleStmt: 'CREATE RULE',
  CommentStmt: 'COMMENT',
  GrantRoleStmt: 'GRANT ROLE',
  CreateRoleStmt: 'CREATE ROLE',
  AlterRoleStmt: 'ALTER ROLE',
  DropRoleStmt: 'DROP ROLE',
  TruncateStmt: 'TRUNCATE TABLE',
  LockStmt: 'LOCK TABLE',
  ReindexStmt: 'REINDEX',
  ClusterStmt: 'CLUSTER',
  VacuumStmt: 'VACUUM',
  InsertStmt: 'INSERT',
  UpdateStmt: 'UPDATE',
  DeleteStmt: 'DELETE',
  MergeStmt: 'MERGE',
  DoStmt: 'DO',
  CallStmt: 'CALL',
  VariableSetStmt: 'SET',
  RefreshMatViewStmt: 'REFRESH MATERIALIZED VIEW',
  CreateForeignTableStmt: 'CREATE FOREIGN TABLE',
  CreateStatsStmt: 'CREATE STATISTICS',
  CreatePublicationStmt: 'CREATE PUBLICATION',
  CreateEventTrigStmt: 'CREATE EVENT TRIGGER',
  AlterDefaultPrivilegesStmt: 'ALTER DEFAULT PRIVILEGES',
  CreatedbStmt: 'CREATE DATABASE',
  DropdbStmt: 'DROP DATABASE',
  AlterDatabaseStmt: 'ALTER DATABASE',
  AlterDatabaseSetStmt: 'ALTER DATABASE',
  AlterSystemStmt: 'ALTER SYSTEM',
  CreateTableSpaceStmt: 'CREATE TABLESPACE',
  DropTableSpaceStmt: 'DROP TABLESPACE',
  DropOwnedStmt: 'DROP OWNED',
  ReassignOwnedStmt: 'REASSIGN OWNED',
  CreateCastStmt: 'CREATE CAST',
  CreateOpClassStmt: 'CREATE OPERATOR CLASS',
  CreateOpFamilyStmt: 'CREATE OPERATOR FAMILY',
  CreateConversionStmt: 'CREATE CONVERSION',
  CreatePLangStmt: 'CREATE LANGUAGE',
  SecLabelStmt: 'SECURITY LABEL',
};

/** The command tag of a statement node ("ALTER TABLE", "INSERT", "CREATE MATERIALIZED VIEW", ...). */
export function commandTag(node: AstValue): string {
  const t = nodeType(node);
  const f = fields(node);
  const word = (objtype: string | undefined, fallback: string): string => (objtype && OBJECT_WORDS[objtype]) || fallback;
  switch (t) {
    case 'CreateStmt':
      return f.relation?.relpersistence === 't' ? 'CREATE TEMP TABLE' : 'CREATE TABLE';
    case 'AlterTableStmt':
      return `ALTER ${word(f.objtype, 'TABLE')}`;
    case 'DropStmt':
      return `DROP ${word(f.removeType, 'OBJECT')}`;
    case 'RenameStmt':
      return `ALTER ${word(f.renameType === 'OBJECT_COLUMN' || f.renameType === 'OBJECT_TABCONSTRAINT' ? f.relationType ?? 'OBJECT_TABLE' : f.renameType, 'OBJECT')}`;
    case 'AlterObjectSchemaStmt':
      return `ALTER ${word(f.objectType, 'OBJECT')}`;
    case 'AlterOwnerStmt':
      return `ALTER ${word(f.objectType, 'OBJECT')}`;
    case 'CreateTableAsStmt':
      return f.objtype === 'OBJECT_MATVIEW' ? 'CREATE MATERIALIZED VIEW' : 'CREATE TABLE AS';
    case 'SelectStmt':
      return f.intoClause ? 'SELECT INTO' : 'SELECT';
    case 'CreateFunctionStmt':
      return f.is_procedure ? 'CREATE PROCEDURE' : 'CREATE FUNCTION';
    case 'AlterFunctionStmt':
      return `ALTER ${word(f.objtype, 'FUNCTION')}`;
    case 'DefineStmt':
      return `CREATE ${word(f.kind, 'OBJECT')}`;
    case 'GrantStmt':
      return f.is_grant ? 'GRANT' : 'REVOKE';
    case 'CopyStmt':
      return 'COPY';
    case 'TransactionStmt':
      return String(f.kind ?? '').replace('TRANS_STMT_', '').replace(/_/g, ' ');
    default:
      return SIMPLE[t] ?? t.replace(/Stmt$/, '').replace(/([a-z])([A-Z])/g, '$1 $2').toUpperCase();
  }
}
