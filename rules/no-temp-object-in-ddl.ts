/**
 * no-temp-object-in-ddl: replicated DDL that references or depends on a temporary object.
 * Spec §1 [P5-MG]: "Any DDL that references or relies on a temporary object can't be replicated by
 * PGD and throws an error if executed with DDL replication enabled." Temporary objects exist only
 * in the migration's own session, so the statement cannot run again on the other nodes.
 */
import { AstValue, QualifiedName, fields, listName, names, nodeType } from '../src/ast';
import { shown } from '../src/describe';
import type { RunModel, Stmt } from '../src/model';
import type { Rule, StatementContext } from '../src/rule';
import { clone, deparse } from '../src/sqlgen';
import { commandTag } from '../src/stmt-tag';
import { TempLookup, TempRef, plpgsqlQueriesOfNode, tempReferences, tempRelation, tempRelationByName } from '../src/temp-objects';
import { productName } from '../src/targets';

/** Views PostgreSQL made temporary because their query reads a temporary object, per run. */
const implicitTemps = new WeakMap<RunModel, Map<string, { line: number; because: string; fileIndex: number }>>();

const isTempSchema = (s: string | undefined): boolean => !!s && (s === 'pg_temp' || s.startsWith('pg_temp_'));

export const rule: Rule = {
  meta: {
    id: 'no-temp-object-in-ddl',
    description: 'Replicated DDL that references or depends on a temporary object (PGD refuses to replicate it)',
    severity: () => 'error',
    fixable: false,
    spec: ['§1', '§2.2', '§7.1'],
  },
  statement(ctx) {
    const { stmt } = ctx;
    if (!stmt.node || !stmt.executed) return;
    let implicit = implicitTemps.get(ctx.model);
    if (!implicit) {
      implicit = new Map();
      implicitTemps.set(ctx.model, implicit);
    }
    // No temporary object can be referenced when the session never made one and the statement
    // does not name the pg_temp schema (most statements of most runs): nothing to look for.
    if (!ctx.catalog.mayHoldTemporary() && implicit.size === 0 && !namesPgTemp(stmt)) return;
    const look: TempLookup = { catalog: ctx.catalog, implicitTemp: implicit, fileIndex: stmt.file.index };
    const shape = shapeOf(ctx, look);
    if (!shape) return;
    const refs = tempReferences(look, shape.roots, shape.skip, shape.localNames);
    refs.push(...(shape.extra ?? []));
    if (shape.body) {
      const seen = new Set(refs.map((r) => `${r.kind}:${r.q.schema}.${r.q.name}`));
      for (const r of tempReferences(look, shape.body.roots, shape.skip, shape.localNames)) {
        const id = `${r.kind}:${r.q.schema}.${r.q.name}`;
        if (seen.has(id)) continue;
        seen.add(id);
        refs.push(r);
        shape.body.refs.add(r);
      }
    }
    if (refs.length === 0) return;

    // PostgreSQL makes a view over a temporary relation temporary itself (NOTICE: view "v" will be
    // a temporary view): later DDL that uses the view depends on a temporary object too.
    const viewTarget = stmt.type === 'ViewStmt' && !shape.selfTemp ? stmt.f.view : undefined;
    if (viewTarget && refs.some((r) => r.kind !== 'type' && r.kind !== 'function' && r.kind !== 'row type')) {
      const q: QualifiedName = { schema: viewTarget.schemaname || undefined, name: viewTarget.relname };
      const key = `${ctx.catalog.creationSchema(q)}.${q.name}`;
      implicit.set(key, { line: stmt.file.source.position(stmt.start).line, because: describeRef(refs[0], stmt), fileIndex: stmt.file.index });
    }

    if (shape.selfTemp || !replicated(ctx, shape)) return;

    const tag = commandTag(stmt.node);
    const target = shape.label ? ` ${shape.label}` : shape.target ? ` ${shown(shape.target)}` : '';
    const list = refs.map((r) => describeRef(r, stmt)).join(', ');
    const product = productName(ctx.target);
    const consequence =
      ctx.target.family === 'bdr1'
        ? `${product} replicates DDL as the statement text, run again on every node, and the temporary object exists only in this migration's session, so the statement cannot be replicated (§1, inferred for BDR 1)`
        : `${product} refuses to replicate DDL that references or relies on a temporary object and raises an error while DDL replication is on (§1)`;
    // Materialized views are not replicated on PGD 5 – 6.1: only PostgreSQL's own refusal applies.
    const localMatview = stmt.type === 'CreateTableAsStmt' && stmt.f.objtype === 'OBJECT_MATVIEW' && !ctx.facts.replicated;
    let message = localMatview && shape.pgNote ? `${tag}${target} ${shape.verb} ${list}: ${shape.pgNote}` : `${tag}${target} ${shape.verb} ${list}: ${consequence}`;
    if (localMatview) shape.pgNote = undefined;
    if (shape.body) {
      const inBody = refs.filter((r) => shape.body!.refs.has(r));
      if (inBody.length > 0 && shape.body.language === 'plpgsql') {
        message = `${tag}${target} reads ${inBody.map((r) => describeRef(r, stmt)).join(', ')} in its PL/pgSQL body: the function is replicated, but the temporary object exists only in this migration's session, so calls on the other nodes (and in any later session) fail with: relation ${shown({ name: inBody[0].q.name })} does not exist`;
        const rest = refs.filter((r) => !shape.body!.refs.has(r));
        if (rest.length > 0) message += `; its signature also uses ${rest.map((r) => describeRef(r, stmt)).join(', ')}: ${consequence}`;
      } else if (inBody.length > 0) {
        message += ' (a LANGUAGE sql body is checked when the function is created, so it fails on every other node too)';
      }
    }
    if (shape.pgNote) message += `; ${shape.pgNote}`;
    else if (stmt.type === 'ViewStmt' && viewTarget) {
      message += `; PostgreSQL also silently makes${target} a temporary view (NOTICE: view${target} will be a temporary view), which disappears when the session ends`;
    }
    ctx.report({
      message,
      suggestion: suggestion(ctx, refs, shape),
      span: { start: stmt.start, end: stmt.end },
    });
  },
};

/** The statement's text mentions pg_temp (any case: unquoted identifiers fold to lower case). */
function namesPgTemp(stmt: Stmt): boolean {
  return /pg_temp/i.test(stmt.file.source.text.slice(stmt.start, stmt.end));
}

interface Shape {
  /** Trees to search for references. */
  roots: AstValue[];
  skip: Set<object>;
  localNames: Set<string>;
  /** References found outside the trees (OWNED BY). */
  extra?: TempRef[];
  /** The object the statement creates or changes. */
  target?: QualifiedName;
  /** How messages name it, when not by `target` alone (`"pol" ON "orders"` for a policy). */
  label?: string;
  /** The statement's own object is temporary: it is not replicated, the dependency is fine. */
  selfTemp: boolean;
  /** The statement's own object is unlogged (not replicated before PGD 6). */
  unlogged: boolean;
  /** Words between the statement and the list of temporary objects. */
  verb: string;
  /** PostgreSQL's own refusal, when it refuses the statement too. */
  pgNote?: string;
  /** The same statement creating a temporary object instead (its node), when that is valid. */
  temporary?: () => AstValue;
  /** A function's body: its statements, checked at creation (sql) or only when called (plpgsql). */
  body?: { language: string; roots: AstValue[]; refs: Set<TempRef> };
}

/** What to look at in a statement, or undefined for statements the rule does not check. */
function shapeOf(ctx: StatementContext, look: TempLookup): Shape | undefined {
  const { stmt } = ctx;
  const f = stmt.f;
  const node = stmt.node!;
  const base = { skip: new Set<object>(), localNames: new Set<string>() };
  const rvName = (rv: AstValue): QualifiedName => ({ schema: rv?.schemaname || undefined, name: rv?.relname ?? '' });
  // An unqualified name is created in the first schema of search_path: pg_temp there makes it temporary.
  const createdInTemp = (schema: string | undefined): boolean => isTempSchema(schema) || (!schema && ctx.catalog.creationSchema({ name: '' }) === 'pg_temp');
  const rvTemp = (rv: AstValue): boolean => rv?.relpersistence === 't' || createdInTemp(rv?.schemaname || undefined);
  // Made on demand: only a finding's suggestion needs it, and a copy of every statement is costly.
  const withPersistence = (edit: (n: AstValue) => void): (() => AstValue) => () => {
    const n = clone(node);
    edit(n);
    return n;
  };
  switch (stmt.type) {
    case 'ViewStmt':
      return {
        ...base,
        roots: [f.query],
        target: rvName(f.view),
        selfTemp: rvTemp(f.view),
        unlogged: false,
        verb: 'reads',
        temporary: withPersistence((n) => {
          n.ViewStmt.view.relpersistence = 't';
          delete n.ViewStmt.view.schemaname;
        }),
      };
    case 'CreateStmt': {
      const roots: AstValue[] = [f.tableElts, f.inhRelations, f.ofTypename, f.partspec];
      const parents = (f.inhRelations ?? []).map((p: AstValue) => tempRelation(look, fields(p))).filter(Boolean);
      const fks = foreignKeyTargets(f.tableElts).map((rv) => tempRelation(look, rv)).filter(Boolean);
      let pgNote: string | undefined;
      if (!rvTemp(f.relation)) {
        if (parents.length > 0 && f.partbound) pgNote = 'PostgreSQL itself refuses it: cannot create a permanent relation as partition of temporary relation';
        else if (parents.length > 0) pgNote = 'PostgreSQL itself refuses it: cannot inherit from temporary relation';
        else if (fks.length > 0) pgNote = 'PostgreSQL itself refuses it: constraints on permanent tables may reference only permanent tables';
      }
      return {
        ...base,
        roots,
        target: rvName(f.relation),
        selfTemp: rvTemp(f.relation),
        unlogged: f.relation?.relpersistence === 'u',
        verb: 'depends on',
        pgNote,
        temporary: f.partbound
          ? undefined
          : withPersistence((n) => {
              n.CreateStmt.relation.relpersistence = 't';
              delete n.CreateStmt.relation.schemaname;
            }),
      };
    }
    case 'CreateTableAsStmt': {
      const rel = f.into?.rel;
      const matview = f.objtype === 'OBJECT_MATVIEW';
      return {
        ...base,
        roots: [f.query],
        target: rvName(rel),
        selfTemp: rvTemp(rel),
        unlogged: rel?.relpersistence === 'u',
        verb: 'reads',
        pgNote: matview ? 'PostgreSQL itself refuses it: materialized views must not use temporary tables or views' : undefined,
        temporary: matview
          ? undefined
          : withPersistence((n) => {
              n.CreateTableAsStmt.into.rel.relpersistence = 't';
              delete n.CreateTableAsStmt.into.rel.schemaname;
            }),
      };
    }
    case 'SelectStmt': {
      if (!f.intoClause) return undefined;
      const rel = f.intoClause.rel;
      const query = clone(node);
      delete query.SelectStmt.intoClause;
      const into = clone(f.intoClause);
      into.rel.relpersistence = 't';
      delete into.rel.schemaname;
      return {
        ...base,
        roots: [query],
        target: rvName(rel),
        selfTemp: rvTemp(rel),
        unlogged: rel?.relpersistence === 'u',
        verb: 'reads',
        temporary: () => ({ CreateTableAsStmt: { query, into, objtype: 'OBJECT_TABLE' } }),
      };
    }
    case 'CreateSeqStmt':
    case 'AlterSeqStmt': {
      const seq = f.sequence;
      const extra: TempRef[] = [];
      for (const o of f.options ?? []) {
        const d = fields(o);
        if (d.defname !== 'owned_by') continue;
        const items = fields(d.arg).items;
        if (!Array.isArray(items)) continue;
        const parts = names(items);
        if (parts.length < 2) continue; // OWNED BY NONE
        const table = parts.length > 2 ? { schema: parts[parts.length - 3], name: parts[parts.length - 2] } : { name: parts[0] };
        const r = tempRelationByName(look, table, d.location);
        if (r) extra.push(r);
      }
      const self = stmt.type === 'CreateSeqStmt' ? rvTemp(seq) : !!tempRelation(look, seq);
      return {
        ...base,
        roots: [(f.options ?? []).filter((o: AstValue) => fields(o).defname !== 'owned_by')],
        extra,
        target: rvName(seq),
        selfTemp: self,
        unlogged: seq?.relpersistence === 'u',
        verb: 'is owned by a column of',
        pgNote: extra.length > 0 && !self ? 'PostgreSQL itself refuses it: sequence must be in same schema as table it is linked to' : undefined,
        temporary:
          stmt.type === 'CreateSeqStmt'
            ? withPersistence((n) => {
                n.CreateSeqStmt.sequence.relpersistence = 't';
                delete n.CreateSeqStmt.sequence.schemaname;
              })
            : undefined,
      };
    }
    case 'CreateFunctionStmt': {
      const q = listName(f.funcname);
      const roots: AstValue[] = [f.parameters, f.returnType];
      const bodyRoots: AstValue[] = [f.sql_body];
      let language = 'sql';
      for (const o of f.options ?? []) {
        const d = fields(o);
        if (d.defname === 'language') language = String(fields(d.arg).sval ?? language).toLowerCase();
      }
      const plpgsql = language === 'plpgsql' ? plpgsqlQueriesOfNode(node) : [];
      if (plpgsql.length > 0) {
        bodyRoots.push(...plpgsql);
      } else {
        for (const child of stmt.file.statements) {
          if (child.parent === stmt && child.via === 'function' && child.node) bodyRoots.push(child.node);
        }
      }
      // Temporary tables the body creates for itself are its own, not the migration's.
      const localNames = new Set<string>();
      for (const n of bodyRoots) {
        const t = nodeType(n);
        const rel = t === 'CreateStmt' ? fields(n).relation : t === 'CreateTableAsStmt' ? fields(n).into?.rel : undefined;
        if (rel?.relpersistence === 't' && !rel.schemaname) localNames.add(rel.relname);
      }
      return {
        ...base,
        localNames,
        roots,
        body: { language, roots: bodyRoots, refs: new Set() },
        target: q,
        selfTemp: createdInTemp(q.schema),
        unlogged: false,
        verb: 'uses',
        temporary: withPersistence((n) => {
          n.CreateFunctionStmt.funcname = [{ String: { sval: 'pg_temp' } }, { String: { sval: q.name } }];
        }),
      };
    }
    case 'CompositeTypeStmt':
      return {
        ...base,
        roots: [f.coldeflist],
        target: rvName(f.typevar),
        selfTemp: createdInTemp(f.typevar?.schemaname || undefined),
        unlogged: false,
        verb: 'has a column of',
        temporary: withPersistence((n) => {
          n.CompositeTypeStmt.typevar.schemaname = 'pg_temp';
        }),
      };
    case 'CreateDomainStmt':
    case 'CreateRangeStmt': {
      const list = stmt.type === 'CreateDomainStmt' ? f.domainname : f.typeName;
      const q = listName(list);
      return {
        ...base,
        roots: stmt.type === 'CreateDomainStmt' ? [f.typeName, f.constraints] : [f.params],
        target: q,
        selfTemp: createdInTemp(q.schema),
        unlogged: false,
        verb: 'is defined over',
        temporary: withPersistence((n) => {
          const v = n[stmt.type];
          v[stmt.type === 'CreateDomainStmt' ? 'domainname' : 'typeName'] = [{ String: { sval: 'pg_temp' } }, { String: { sval: q.name } }];
        }),
      };
    }
    case 'AlterTableStmt': {
      const rel = f.relation;
      const self = f.objtype === 'OBJECT_TYPE' ? isTempSchema(rel?.schemaname) || ctx.catalog.types.has(`pg_temp.${rel?.relname}`) : !!tempRelation(look, rel);
      let pgNote: string | undefined;
      for (const c of f.cmds ?? []) {
        const cmd = fields(c);
        if (cmd.subtype === 'AT_AddInherit' && tempRelation(look, fields(cmd.def))) pgNote = 'PostgreSQL itself refuses it: cannot inherit from temporary relation';
        if (cmd.subtype === 'AT_AttachPartition' && tempRelation(look, fields(cmd.def).name)) pgNote = 'PostgreSQL itself refuses it: cannot attach a temporary relation as partition of permanent relation';
        if (cmd.subtype === 'AT_AddConstraint' && foreignKeyTargets([cmd.def]).some((rv) => tempRelation(look, rv))) {
          pgNote = 'PostgreSQL itself refuses it: constraints on permanent tables may reference only permanent tables';
        }
      }
      return {
        ...base,
        roots: [f.cmds],
        target: rvName(rel),
        selfTemp: self,
        unlogged: !!ctx.table(rvName(rel)) && ctx.table(rvName(rel))!.persistence === 'unlogged',
        verb: 'depends on',
        pgNote,
      };
    }
    case 'RuleStmt':
    case 'CreatePolicyStmt':
    case 'AlterPolicyStmt': {
      const rel = stmt.type === 'RuleStmt' ? f.relation : f.table;
      const roots = stmt.type === 'RuleStmt' ? [f.whereClause, f.actions] : [f.qual, f.with_check];
      const t = ctx.table(rvName(rel));
      const own = stmt.type === 'RuleStmt' ? f.rulename : f.policy_name;
      return {
        ...base,
        roots,
        target: rvName(rel),
        label: own ? `${shown({ name: own })} ON ${shown(rvName(rel))}` : undefined,
        selfTemp: !!tempRelation(look, rel),
        unlogged: !!t && t.persistence === 'unlogged',
        verb: 'reads',
      };
    }
    case 'CreateTrigStmt': {
      // A trigger on a permanent table that calls a pg_temp function, or whose WHEN clause uses a temporary object.
      const rel = f.relation;
      const t = ctx.table(rvName(rel));
      const fn = names(f.funcname);
      const extra: TempRef[] = fn.length > 1 && isTempSchema(fn[0]) ? [{ kind: 'function', q: { schema: 'pg_temp', name: fn[fn.length - 1] } }] : [];
      return {
        ...base,
        roots: [f.whenClause],
        extra,
        target: rvName(rel),
        label: f.trigname ? `${shown({ name: f.trigname })} ON ${shown(rvName(rel))}` : undefined,
        selfTemp: !!tempRelation(look, rel),
        unlogged: !!t && t.persistence === 'unlogged',
        verb: 'uses',
      };
    }
    case 'IndexStmt': {
      // An index on a permanent table whose expressions or predicate use a pg_temp function.
      const rel = f.relation;
      const t = ctx.table(rvName(rel));
      return {
        ...base,
        roots: [f.indexParams, f.indexIncludingParams, f.whereClause],
        target: rvName(rel),
        label: f.idxname ? `${shown({ name: f.idxname })} ON ${shown(rvName(rel))}` : `ON ${shown(rvName(rel))}`,
        selfTemp: !!tempRelation(look, rel),
        unlogged: !!t && t.persistence === 'unlogged',
        verb: 'uses',
      };
    }
    default:
      return undefined;
  }
}

/**
 * SQL of a node. Function bodies keep their line breaks: a body may hold `--` comments, which
 * the one-line form of src/sqlgen.ts would run into the rest of the body.
 */
function safeDeparse(node: AstValue): string | undefined {
  try {
    if (nodeType(node) !== 'CreateFunctionStmt') return deparse(node);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { deparseSync } = require('pgsql-deparser') as { deparseSync: (n: AstValue, o?: { pretty?: boolean }) => string };
    return deparseSync(node, { pretty: false }).trim();
  } catch {
    return undefined;
  }
}

/** The referenced tables (RangeVar fields) of FOREIGN KEY constraints in table elements or constraints. */
function foreignKeyTargets(elts: AstValue[] | undefined): AstValue[] {
  const out: AstValue[] = [];
  const visitConstraint = (c: AstValue): void => {
    if (c?.contype === 'CONSTR_FOREIGN' && c.pktable) out.push(c.pktable);
  };
  for (const e of elts ?? []) {
    if (e?.Constraint) visitConstraint(e.Constraint);
    if (e?.ColumnDef) for (const c of e.ColumnDef.constraints ?? []) visitConstraint(fields(c));
  }
  return out;
}

/** Whether PGD / BDR would try to replicate the statement. */
function replicated(ctx: StatementContext, shape: Shape): boolean {
  const { stmt } = ctx;
  if (stmt.tx.kind === 'remote') return false; // bdr.run_on_*: DDL replication is off there
  const viaReplicate = stmt.via === 'replicate_ddl_command' || stmt.via === 'bdr_replicate_ddl_command';
  if (!viaReplicate && ctx.session.ddlReplicationOff) return false;
  if (shape.unlogged && ctx.target.family !== 'pgd6') return false; // unlogged relations are not replicated
  return true;
}

const KIND_WORDS: Record<TempRef['kind'], string> = {
  table: 'temporary table',
  view: 'temporary view',
  'materialized view': 'temporary materialized view',
  sequence: 'temporary sequence',
  type: 'temporary type',
  'row type': 'the row type of temporary table',
  function: 'temporary function',
  relation: 'temporary relation',
};

function describeRef(r: TempRef, stmt: Stmt): string {
  const name = r.q.schema === 'pg_temp' && r.kind === 'function' ? `pg_temp.${r.q.name}` : shown({ name: r.q.name });
  if (r.implicit) {
    const what = r.kind === 'row type' ? 'the row type of view' : 'view';
    return `${what} ${name} (made temporary by PostgreSQL at line ${r.implicit.line} because it reads ${r.implicit.because})`;
  }
  void stmt;
  const word = r.kind === 'row type' ? 'the row type of temporary table' : KIND_WORDS[r.kind];
  return `${word} ${name}`;
}

/** The statement that created a temporary object, found by the catalog's origin. */
function creatorOf(ctx: StatementContext, r: TempRef): Stmt | undefined {
  if (!r.key) return undefined;
  const c = ctx.catalog;
  const obj = c.tables.get(r.key) ?? c.sequences.get(r.key) ?? c.types.get(r.key);
  if (!obj) return undefined;
  const id = obj.origin.stmtId;
  for (const file of ctx.model.files) {
    for (const s of file.statements) if (s.id === id) return s;
  }
  return undefined;
}

/** The creating statement of a temporary object, rewritten to create a permanent one. */
function permanentVersion(s: Stmt): string | undefined {
  if (!s.node) return undefined;
  const n = clone(s.node);
  const t = nodeType(n);
  const v = n[t];
  const rel = t === 'CreateStmt' ? v.relation : t === 'CreateTableAsStmt' ? v.into?.rel : t === 'ViewStmt' ? v.view : t === 'CreateSeqStmt' ? v.sequence : undefined;
  if (rel) {
    rel.relpersistence = 'p';
    if (isTempSchema(rel.schemaname)) delete rel.schemaname;
    if (t === 'CreateStmt') v.oncommit = 'ONCOMMIT_NOOP';
    if (t === 'CreateTableAsStmt' && v.into) v.into.onCommit = 'ONCOMMIT_NOOP';
  } else if (t === 'CompositeTypeStmt' && isTempSchema(v.typevar?.schemaname)) {
    delete v.typevar.schemaname;
  } else if ((t === 'CreateEnumStmt' || t === 'CreateRangeStmt') && isTempSchema(names(v.typeName)[0])) {
    v.typeName = v.typeName.slice(-1);
  } else if (t === 'CreateDomainStmt' && isTempSchema(names(v.domainname)[0])) {
    v.domainname = v.domainname.slice(-1);
  } else {
    return undefined;
  }
  return safeDeparse(n);
}

function suggestion(ctx: StatementContext, refs: TempRef[], shape: Shape): string {
  const lines: string[] = [];
  const permanent: string[] = [];
  for (const r of refs) {
    if (r.implicit) continue;
    const creator = creatorOf(ctx, r);
    const sql = creator ? permanentVersion(creator) : undefined;
    if (sql) permanent.push(`${sql};`);
  }
  lines.push('-- Either make what it depends on permanent (created before it, replicated like any other object):');
  if (permanent.length > 0) lines.push(...permanent);
  else lines.push(`-- create ${refs.map((r) => shown({ name: r.q.name })).join(', ')} without TEMP / TEMPORARY / ON COMMIT DROP and outside schema pg_temp`);
  if (shape.temporary) {
    const sql = safeDeparse(shape.temporary());
    if (sql) {
      const note = ctx.stmt.type === 'CreateFunctionStmt' ? ' (call it as pg_temp.' + (shape.target?.name ?? '') + '(...))' : '';
      lines.push(`-- or make it temporary too: it is then not replicated and lasts only for this session${note}:`, `${sql};`);
    }
  }
  return lines.join('\n');
}
