/**
 * Statement kinds: the normalized, lower-case names policy rules match on ("select", "drop table",
 * "alter role", "copy" ...), derived from the PostgreSQL parse tree node of a statement.
 *
 * DDL is named "<verb> <object kind>" the way SQL spells it ("create index", "drop materialized view").
 * A parse node we have no explicit name for still gets a readable kind derived from its node name
 * (CreateConversionStmt -> "create conversion"), so no statement is ever kind-less.
 */

/** Parse-tree ObjectType values (OBJECT_*) whose SQL spelling is not simply the lower-cased suffix. */
const OBJECT_NAMES: Record<string, string> = {
  MATVIEW: 'materialized view',
  FOREIGN_TABLE: 'foreign table',
  FOREIGN_SERVER: 'server',
  FDW: 'foreign data wrapper',
  TSCONFIGURATION: 'text search configuration',
  TSDICTIONARY: 'text search dictionary',
  TSPARSER: 'text search parser',
  TSTEMPLATE: 'text search template',
  OPCLASS: 'operator class',
  OPFAMILY: 'operator family',
  STATISTIC_EXT: 'statistics',
  TABCONSTRAINT: 'constraint',
  DOMCONSTRAINT: 'constraint',
  LARGEOBJECT: 'large object',
  ACCESS_METHOD: 'access method',
  EVENT_TRIGGER: 'event trigger',
  USER_MAPPING: 'user mapping',
  DEFACL: 'default privileges',
  PUBLICATION_NAMESPACE: 'publication',
  PUBLICATION_REL: 'publication',
};

/** "OBJECT_MATVIEW" -> "materialized view"; "OBJECT_TABLE" -> "table". */
export function objectKindName(objectType: unknown): string {
  if (typeof objectType !== 'string') return 'object';
  const key = objectType.replace(/^OBJECT_/, '');
  return OBJECT_NAMES[key] ?? key.toLowerCase().replace(/_/g, ' ');
}

const TRANSACTION_KINDS: Record<string, string> = {
  TRANS_STMT_BEGIN: 'begin',
  TRANS_STMT_START: 'begin',
  TRANS_STMT_COMMIT: 'commit',
  TRANS_STMT_ROLLBACK: 'rollback',
  TRANS_STMT_SAVEPOINT: 'savepoint',
  TRANS_STMT_RELEASE: 'release savepoint',
  TRANS_STMT_ROLLBACK_TO: 'rollback to savepoint',
  TRANS_STMT_PREPARE: 'prepare transaction',
  TRANS_STMT_COMMIT_PREPARED: 'commit prepared',
  TRANS_STMT_ROLLBACK_PREPARED: 'rollback prepared',
};

/** Fixed names for parse nodes whose kind does not depend on their fields. */
const FIXED_KINDS: Record<string, string> = {
  SelectStmt: 'select',
  InsertStmt: 'insert',
  UpdateStmt: 'update',
  DeleteStmt: 'delete',
  MergeStmt: 'merge',
  TruncateStmt: 'truncate',
  CopyStmt: 'copy',
  CallStmt: 'call',
  DoStmt: 'do',
  VariableShowStmt: 'show',
  PrepareStmt: 'prepare',
  ExecuteStmt: 'execute',
  DeallocateStmt: 'deallocate',
  ExplainStmt: 'explain',
  DeclareCursorStmt: 'declare',
  ClosePortalStmt: 'close',
  ListenStmt: 'listen',
  UnlistenStmt: 'unlisten',
  NotifyStmt: 'notify',
  LoadStmt: 'load',
  LockStmt: 'lock',
  ClusterStmt: 'cluster',
  ReindexStmt: 'reindex',
  CheckPointStmt: 'checkpoint',
  DiscardStmt: 'discard',
  ConstraintsSetStmt: 'set constraints',
  AlterSystemStmt: 'alter system',
  CommentStmt: 'comment',
  SecLabelStmt: 'security label',
  ReturnStmt: 'return',
  CreateStmt: 'create table',
  CreateForeignTableStmt: 'create foreign table',
  IndexStmt: 'create index',
  ViewStmt: 'create view',
  CreateSeqStmt: 'create sequence',
  AlterSeqStmt: 'alter sequence',
  CreateSchemaStmt: 'create schema',
  CreateTrigStmt: 'create trigger',
  CreateEventTrigStmt: 'create event trigger',
  AlterEventTrigStmt: 'alter event trigger',
  RuleStmt: 'create rule',
  CreateExtensionStmt: 'create extension',
  AlterExtensionStmt: 'alter extension',
  AlterExtensionContentsStmt: 'alter extension',
  CreateDomainStmt: 'create domain',
  AlterDomainStmt: 'alter domain',
  CompositeTypeStmt: 'create type',
  CreateEnumStmt: 'create type',
  CreateRangeStmt: 'create type',
  AlterEnumStmt: 'alter type',
  AlterTypeStmt: 'alter type',
  CreatedbStmt: 'create database',
  AlterDatabaseStmt: 'alter database',
  AlterDatabaseSetStmt: 'alter database',
  AlterDatabaseRefreshCollStmt: 'alter database',
  DropdbStmt: 'drop database',
  CreateTableSpaceStmt: 'create tablespace',
  DropTableSpaceStmt: 'drop tablespace',
  AlterTableSpaceOptionsStmt: 'alter tablespace',
  AlterTableMoveAllStmt: 'alter table',
  CreatePolicyStmt: 'create policy',
  AlterPolicyStmt: 'alter policy',
  CreatePublicationStmt: 'create publication',
  AlterPublicationStmt: 'alter publication',
  CreateSubscriptionStmt: 'create subscription',
  AlterSubscriptionStmt: 'alter subscription',
  DropSubscriptionStmt: 'drop subscription',
  CreateForeignServerStmt: 'create server',
  AlterForeignServerStmt: 'alter server',
  CreateFdwStmt: 'create foreign data wrapper',
  AlterFdwStmt: 'alter foreign data wrapper',
  CreateUserMappingStmt: 'create user mapping',
  AlterUserMappingStmt: 'alter user mapping',
  DropUserMappingStmt: 'drop user mapping',
  ImportForeignSchemaStmt: 'import foreign schema',
  AlterFunctionStmt: 'alter function',
  CreateCastStmt: 'create cast',
  CreateOpClassStmt: 'create operator class',
  CreateOpFamilyStmt: 'create operator family',
  AlterOpFamilyStmt: 'alter operator family',
  AlterOperatorStmt: 'alter operator',
  CreateConversionStmt: 'create conversion',
  CreateTransformStmt: 'create transform',
  CreateAmStmt: 'create access method',
  CreateStatsStmt: 'create statistics',
  AlterStatsStmt: 'alter statistics',
  CreatePLangStmt: 'create language',
  AlterCollationStmt: 'alter collation',
  AlterTSDictionaryStmt: 'alter text search dictionary',
  AlterTSConfigurationStmt: 'alter text search configuration',
  AlterDefaultPrivilegesStmt: 'alter default privileges',
  DropOwnedStmt: 'drop owned',
  ReassignOwnedStmt: 'reassign owned',
  CreateRoleStmt: 'create role',
  AlterRoleStmt: 'alter role',
  AlterRoleSetStmt: 'alter role',
  DropRoleStmt: 'drop role',
  RefreshMatViewStmt: 'refresh materialized view',
  PLAssignStmt: 'assign',
};

/**
 * Every kind a policy rule may name (the validator rejects others, so a typo can't silently match
 * nothing). Rules can also use globs ("drop *") and the groups in KIND_GROUPS.
 */
export const KNOWN_KINDS: readonly string[] = [
  ...new Set([
    ...Object.values(FIXED_KINDS),
    ...Object.values(TRANSACTION_KINDS),
    'set',
    'reset',
    // Added to the kinds of SET/RESET ROLE, SET/RESET SESSION AUTHORIZATION and ALTER DATABASE ... SET role.
    'set role',
    'fetch',
    'move',
    'vacuum',
    'analyze',
    'grant',
    'revoke',
    'create table as',
    'create materialized view',
    'create function',
    'create procedure',
    ...[
      'table', 'index', 'view', 'materialized view', 'sequence', 'foreign table', 'schema', 'function', 'procedure',
      'routine', 'aggregate', 'type', 'domain', 'trigger', 'rule', 'extension', 'policy', 'publication', 'server',
      'foreign data wrapper', 'collation', 'conversion', 'operator', 'operator class', 'operator family', 'cast',
      'language', 'event trigger', 'statistics', 'access method', 'text search configuration', 'text search dictionary',
      'text search parser', 'text search template', 'transform',
    ].flatMap((o) => [`drop ${o}`, `alter ${o}`, `create ${o}`]),
  ]),
].sort();

/** Named groups of kinds, usable in rules like a kind. */
export const KIND_GROUPS: Record<string, (kind: string) => boolean> = {
  /** Statements that change rows. */
  dml: (k) => k === 'insert' || k === 'update' || k === 'delete' || k === 'merge',
  /** Schema changes: CREATE, ALTER, DROP of any object, plus COMMENT, SECURITY LABEL, TRUNCATE-free DDL. */
  ddl: (k) => /^(create|alter|drop) /.test(k) || k === 'comment' || k === 'security label' || k === 'reassign owned' || k === 'import foreign schema',
  /** Privilege and role changes. */
  privileges: (k) => k === 'grant' || k === 'revoke' || k === 'alter default privileges' || / role$/.test(k),
  /** Transaction control. */
  transaction: (k) => Object.values(TRANSACTION_KINDS).includes(k),
};

/** PascalCase node name -> "words": CreateConversionStmt -> "create conversion". */
function fromNodeName(type: string): string {
  return type
    .replace(/Stmt$/, '')
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .toLowerCase();
}

/** The kind of a statement parse node (`type` is its node name, `n` its fields). */
export function statementKind(type: string, n: Record<string, any>): string {
  const fixed = FIXED_KINDS[type];
  if (fixed) {
    if (type === 'SelectStmt' && n.intoClause) return 'create table as';
    return fixed;
  }
  switch (type) {
    case 'TransactionStmt':
      return TRANSACTION_KINDS[n.kind] ?? 'transaction';
    case 'VariableSetStmt':
      return n.kind === 'VAR_RESET' || n.kind === 'VAR_RESET_ALL' ? 'reset' : 'set';
    case 'FetchStmt':
      return n.ismove ? 'move' : 'fetch';
    case 'VacuumStmt':
      return n.is_vacuumcmd ? 'vacuum' : 'analyze';
    case 'GrantStmt':
    case 'GrantRoleStmt':
      return n.is_grant ? 'grant' : 'revoke';
    case 'CreateTableAsStmt':
      return n.objtype === 'OBJECT_MATVIEW' ? 'create materialized view' : 'create table as';
    case 'CreateFunctionStmt':
      return n.is_procedure ? 'create procedure' : 'create function';
    case 'DefineStmt':
      return `create ${objectKindName(n.kind)}`;
    case 'DropStmt':
      return `drop ${objectKindName(n.removeType)}`;
    case 'AlterTableStmt':
      return `alter ${objectKindName(n.objtype)}`;
    case 'RenameStmt':
      return `alter ${objectKindName(n.renameType === 'OBJECT_COLUMN' || n.renameType === 'OBJECT_TABCONSTRAINT' ? n.relationType : n.renameType)}`;
    case 'AlterObjectSchemaStmt':
    case 'AlterOwnerStmt':
    case 'AlterObjectDependsStmt':
      return `alter ${objectKindName(n.objectType)}`;
    default:
      return fromNodeName(type);
  }
}
