/**
 * require-global-sequence: sequences that hand out the same values on every node.
 * BDR 1 (spec §7.4): a sequence is global only with `USING bdr` (or `SET default_sequenceam = 'bdr'`
 * for serial columns); global sequences take only START and OWNED BY (`CREATE SEQUENCE ... increment
 * is not supported for bdr sequences`), and BDR 1's docs call them deprecated, recommending
 * step/offset sequences or UUIDs instead. BDR 3 and PGD 4.0 (spec §4, §6): new sequences are local
 * unless `bdr.default_sequence_kind` says otherwise; `bdr.alter_sequence_set_kind(seq, 'galloc')`
 * converts one. From PGD 4.1 the default kind is `distributed` and the rule is off.
 */
import { AstValue, QualifiedName, as, constString, fields, names, nodeType, quoteLiteral, typeNameString, walk } from '../src/ast';
import { isSerialType } from '../src/catalog';
import { shown, sqlName } from '../src/describe';
import type { RunModel, Stmt } from '../src/model';
import type { Fix, Rule, StatementContext } from '../src/rule';
import { SessionSettings } from '../src/session-settings';
import { clone, deparse } from '../src/sqlgen';
import { regclassName } from '../src/temp-objects';
import { Target, productName } from '../src/targets';

const settings = new SessionSettings();

/** A local sequence waiting for the end of the run (a later alter_sequence_set_kind() may convert it). */
interface Candidate {
  stmt: Stmt;
  /** The sequence, with its schema as created (for matching). */
  seq: QualifiedName;
  /** The sequence as the migration names it (for messages and SQL). */
  written: QualifiedName;
  /** For serial and identity columns: the table (resolved, and as written) and column. */
  table?: QualifiedName;
  writtenTable?: QualifiedName;
  column?: string;
  what: 'sequence' | 'serial' | 'identity';
  /** int2 / int4 / int8. */
  type: string;
  converted?: boolean;
}

interface RunState {
  candidates: Candidate[];
  /** BDR 1 global sequences created in the run (schema.name). */
  global: Set<string>;
}

const runs = new WeakMap<RunModel, RunState>();

function stateOf(model: RunModel): RunState {
  let s = runs.get(model);
  if (!s) {
    s = { candidates: [], global: new Set() };
    runs.set(model, s);
  }
  return s;
}

/** Before PGD 4.1 the default sequence kind is local (spec §4, §6). */
function localByDefault(target: Target): boolean {
  return target.family === 'bdr3' || (target.family === 'pgd4' && target.minor === 0);
}

export const rule: Rule = {
  meta: {
    id: 'require-global-sequence',
    description: 'Sequences that hand out conflicting values across nodes: local sequences, serial and identity columns on BDR 1, BDR 3 and PGD 4.0',
    severity: (target) => (target.family === 'bdr1' ? 'error' : localByDefault(target) ? 'warning' : 'off'),
    fixable: true,
    spec: ['§4', '§5.7', '§6', '§7.4', '§8'],
  },
  statement(ctx) {
    check(ctx);
    settings.observe(ctx.model, ctx.stmt);
  },
  transaction(ctx) {
    settings.endTransaction(ctx.model, ctx.tx);
  },
  end(ctx) {
    const state = runs.get(ctx.model);
    if (!state) return;
    const byStmt = new Map<Stmt, Candidate[]>();
    for (const c of state.candidates) {
      if (c.converted) continue;
      const list = byStmt.get(c.stmt) ?? [];
      list.push(c);
      byStmt.set(c.stmt, list);
    }
    for (const [stmt, list] of byStmt) ctx.report(stmt, reportFor(ctx.target, stmt, list));
  },
};

const isTempSchema = (s: string | undefined): boolean => !!s && (s === 'pg_temp' || s.startsWith('pg_temp_'));

function check(ctx: StatementContext): void {
  const { stmt, target } = ctx;
  if (!stmt.node || !stmt.executed) return;
  // From PGD 4.1 new sequences are distributed by default (even when the rule is forced on).
  if (target.family !== 'bdr1' && !localByDefault(target)) return;
  const state = stateOf(ctx.model);
  noteConversions(ctx, state);
  switch (stmt.type) {
    case 'CreateSeqStmt':
      return createSequence(ctx, state);
    case 'AlterSeqStmt':
      if (target.family === 'bdr1') {
        if (stmt.legacy.sequenceUsing !== undefined) return convertWithUsing(ctx, state);
        alterGlobalSequence(ctx, state);
      }
      return;
    case 'CreateStmt': {
      const rel = stmt.f.relation;
      if (rel?.relpersistence === 't' || rel?.relpersistence === 'u' || isTempSchema(rel?.schemaname)) return;
      const table: QualifiedName = { schema: ctx.catalog.creationSchema({ schema: rel.schemaname || undefined, name: rel.relname }), name: rel.relname };
      if (stmt.f.if_not_exists && ctx.catalog.tables.has(`${table.schema}.${table.name}`)) return; // nothing is created
      for (const e of stmt.f.tableElts ?? []) {
        const def = as(e, 'ColumnDef');
        if (def) columnSequence(ctx, state, table, { schema: rel.schemaname || undefined, name: rel.relname }, def, 'create');
      }
      return;
    }
    case 'AlterTableStmt': {
      if (stmt.f.objtype && stmt.f.objtype !== 'OBJECT_TABLE') return;
      const q: QualifiedName = { schema: stmt.f.relation?.schemaname || undefined, name: stmt.f.relation?.relname ?? '' };
      const t = ctx.table(q);
      if (t && t.persistence !== 'permanent') return;
      if (stmt.f.relation?.relpersistence === 't' || isTempSchema(q.schema)) return;
      const table: QualifiedName = t ? { schema: t.schema, name: t.name } : { schema: ctx.catalog.creationSchema(q), name: q.name };
      for (const c of stmt.f.cmds ?? []) {
        const cmd = fields(c);
        if (cmd.subtype === 'AT_AddColumn') {
          const def = as(cmd.def, 'ColumnDef');
          if (def && cmd.missing_ok && t?.columns.has(def.colname)) continue; // ADD COLUMN IF NOT EXISTS of an existing column
          if (def) columnSequence(ctx, state, table, q, def, 'add');
        } else if (cmd.subtype === 'AT_AddIdentity' && cmd.name) {
          const col = t?.columns.get(cmd.name);
          columnSequence(ctx, state, table, q, { colname: cmd.name, typeName: undefined, constraints: [cmd.def], knownType: col?.type ?? 'int8' }, 'identity');
        }
      }
      return;
    }
    default:
      return;
  }
}

// ---- CREATE SEQUENCE ------------------------------------------------------------------------

function optionsOf(list: AstValue[] | undefined): Array<{ name: string; arg: AstValue; location?: number }> {
  return (list ?? []).map((o) => {
    const d = fields(o);
    return { name: String(d.defname), arg: d.arg, location: d.location };
  });
}

/** INCREMENT of a step/offset sequence (the alternative BDR 1's docs recommend): more than 1 either way. */
function isStepSequence(options: AstValue[] | undefined): boolean {
  const inc = optionsOf(options).find((o) => o.name === 'increment');
  const v = inc ? Number(constString(as(inc.arg, 'A_Const')) ?? fields(inc.arg).ival ?? NaN) : 1;
  return Number.isFinite(v) && Math.abs(v) > 1;
}

function sequenceType(options: AstValue[] | undefined, fallback = 'int8'): string {
  const asOpt = optionsOf(options).find((o) => o.name === 'as');
  return asOpt ? typeNameString(fields(asOpt.arg)) || fallback : fallback;
}

function createSequence(ctx: StatementContext, state: RunState): void {
  const { stmt, target } = ctx;
  const rel = stmt.f.sequence;
  if (!rel || rel.relpersistence === 't' || rel.relpersistence === 'u' || isTempSchema(rel.schemaname)) return;
  const seq: QualifiedName = { schema: ctx.catalog.creationSchema({ schema: rel.schemaname || undefined, name: rel.relname }), name: rel.relname };
  if (stmt.f.if_not_exists && ctx.catalog.sequences.has(`${seq.schema}.${seq.name}`)) return;
  const options: AstValue[] = stmt.f.options ?? [];
  if (target.family === 'bdr1') {
    const explicit = stmt.legacy.sequenceUsing;
    const am = explicit ?? settings.get(ctx.model, stmt, 'default_sequenceam').value;
    if (am === 'bdr') {
      state.global.add(`${seq.schema}.${seq.name}`);
      const bad = optionsOf(options).filter((o) => o.name !== 'start' && o.name !== 'owned_by');
      if (bad.length > 0) reportBadOptions(ctx, 'CREATE', { schema: rel.schemaname || undefined, name: rel.relname }, bad.map((o) => o.name), explicit === undefined);
      return;
    }
  } else {
    const kind = settings.get(ctx.model, stmt, 'bdr.default_sequence_kind').value;
    if (kind !== undefined && kind !== 'local') return;
  }
  if (isStepSequence(options)) return;
  const written: QualifiedName = { schema: rel.schemaname || undefined, name: rel.relname };
  state.candidates.push({ stmt, seq, written, what: 'sequence', type: sequenceType(options) });
}

/** BDR 1 rejects options other than START / OWNED BY on a global sequence (bdr_commandfilter.c). */
function reportBadOptions(ctx: StatementContext, verb: 'CREATE' | 'ALTER', seq: QualifiedName, bad: string[], viaDefault: boolean): void {
  const { stmt } = ctx;
  const allowed = verb === 'CREATE' ? 'START and OWNED BY' : 'OWNED BY';
  const how = verb === 'CREATE' ? (viaDefault ? " (a global sequence: default_sequenceam = 'bdr' is in effect)" : ' USING bdr') : ' (a BDR 1 global sequence)';
  const list = bad.map((b) => b.toUpperCase().replace('_', ' ')).join(', ');
  const message =
    `${verb} SEQUENCE ${shown(seq)}${how} with ${list}: BDR 1 global sequences accept only ${allowed}, so it fails with ` +
    `ERROR: ${verb} SEQUENCE ... ${bad[0]} is not supported for bdr sequences (SQLSTATE 0A000); BDR 1's docs also call global sequences deprecated (§7.4)`;
  const lines: string[] = [];
  if (verb === 'CREATE') {
    const n = clone(stmt.node!);
    n.CreateSeqStmt.options = (n.CreateSeqStmt.options ?? []).filter((o: AstValue) => ['start', 'owned_by'].includes(fields(o).defname));
    lines.push(`-- Keep only START and OWNED BY on the global sequence:`, `${deparse(n)}${viaDefault ? '' : ' USING bdr'};`);
    lines.push(
      '-- or, as BDR 1 recommends, a step/offset local sequence: the same INCREMENT everywhere (at least the number of nodes), a different start per node:',
      `CREATE SEQUENCE ${sqlName(seq)} INCREMENT BY 100 USING local;`,
      `-- then on each node k (1, 2, ...), on that node only: SELECT setval(${quoteLiteral(sqlName(seq))}, k);`,
    );
  } else {
    lines.push(
      '-- A global sequence takes only OWNED BY in ALTER SEQUENCE: drop the other options.',
      '-- Options such as INCREMENT need a local sequence, e.g. a step/offset sequence (the alternative BDR 1 recommends, §7.4).',
    );
  }
  ctx.report({ message, suggestion: lines.join('\n'), span: { start: stmt.start, end: stmt.end } });
}

/** BDR 1 `ALTER SEQUENCE s USING bdr`: the local sequence becomes global (later options are checked as such). */
function convertWithUsing(ctx: StatementContext, state: RunState): void {
  const { stmt } = ctx;
  const rel = stmt.f.sequence;
  const q: QualifiedName = { schema: rel?.schemaname || undefined, name: rel?.relname ?? '' };
  const s = ctx.catalog.sequence(q);
  const schema = s?.schema ?? q.schema;
  const k = `${s?.schema ?? ctx.catalog.creationSchema(q)}.${q.name}`;
  if (stmt.legacy.sequenceUsing !== 'bdr') {
    state.global.delete(k);
    return;
  }
  state.global.add(k);
  for (const c of state.candidates) {
    if (!c.converted && c.seq.name === q.name && (!schema || c.seq.schema === schema)) c.converted = true;
  }
}

function alterGlobalSequence(ctx: StatementContext, state: RunState): void {
  const { stmt } = ctx;
  const rel = stmt.f.sequence;
  const q: QualifiedName = { schema: rel?.schemaname || undefined, name: rel?.relname ?? '' };
  const s = ctx.catalog.sequence(q);
  if (!s || !(s.global || state.global.has(`${s.schema}.${s.name}`))) return;
  const bad = optionsOf(stmt.f.options).filter((o) => o.name !== 'owned_by');
  if (bad.length > 0) reportBadOptions(ctx, 'ALTER', q, bad.map((o) => o.name), false);
}

// ---- serial and identity columns ------------------------------------------------------------

/** PostgreSQL's name for a column's implicit sequence (ChooseRelationName: table_column_seq within 63 bytes). */
export function implicitSequenceName(table: string, column: string): string {
  const avail = 63 - 'seq'.length - 2;
  let a = Buffer.byteLength(table);
  let b = Buffer.byteLength(column);
  while (a + b > avail) {
    if (a > b) a--;
    else b--;
  }
  const clip = (s: string, n: number): string => {
    let out = '';
    for (const ch of s) {
      if (Buffer.byteLength(out + ch) > n) break;
      out += ch;
    }
    return out;
  };
  return `${clip(table, a)}_${clip(column, b)}_seq`;
}

function columnSequence(
  ctx: StatementContext,
  state: RunState,
  table: QualifiedName,
  written: QualifiedName,
  def: AstValue,
  how: 'create' | 'add' | 'identity',
): void {
  const { stmt, target } = ctx;
  const rawType = def.typeName ? typeNameString(def.typeName) : '';
  const serial = def.typeName ? isSerialType(rawType) && !(def.typeName.arrayBounds?.length > 0) : false;
  const identity = (def.constraints ?? []).find((c: AstValue) => fields(c).contype === 'CONSTR_IDENTITY');
  if (!serial && !identity) return;
  const type = serial ? (rawType.includes('big') || rawType.endsWith('8') ? 'int8' : rawType.includes('small') || rawType.endsWith('2') ? 'int2' : 'int4') : (def.knownType ?? (rawType || 'int8'));
  if (identity && isStepSequence(fields(identity).options)) return;
  if (target.family === 'bdr1') {
    if (serial && settings.get(ctx.model, stmt, 'default_sequenceam').value === 'bdr') return;
  } else {
    const kind = settings.get(ctx.model, stmt, 'bdr.default_sequence_kind').value;
    if (kind !== undefined && kind !== 'local') return;
  }
  void how;
  const seqName = implicitSequenceName(table.name, def.colname);
  state.candidates.push({
    stmt,
    seq: { schema: table.schema, name: seqName },
    written: { schema: written.schema, name: seqName },
    table,
    writtenTable: written,
    column: def.colname,
    what: serial ? 'serial' : 'identity',
    type: type.replace(/^pg_catalog\./, ''),
  });
}

// ---- conversions: bdr.alter_sequence_set_kind() ----------------------------------------------

function noteConversions(ctx: StatementContext, state: RunState): void {
  const { stmt } = ctx;
  if (stmt.type !== 'SelectStmt' && stmt.type !== 'CallStmt') return;
  walk(stmt.node, (t, v) => {
    if (t !== 'FuncCall') return undefined;
    const fn = names(v.funcname);
    if (fn[fn.length - 1] !== 'alter_sequence_set_kind' || (fn.length > 1 && fn[0] !== 'bdr')) return undefined;
    const kind = constString(as(unwrapCast(v.args?.[1]), 'A_Const'))?.toLowerCase();
    if (kind === undefined || kind === 'local') return false;
    const target = sequenceArg(v.args?.[0]);
    if (!target) return false;
    for (const c of state.candidates) {
      if (c.converted) continue;
      if ('seq' in target) {
        if (c.seq.name === target.seq.name && (!target.seq.schema || target.seq.schema === c.seq.schema)) c.converted = true;
      } else if (c.table && c.column === target.column && c.table.name === target.table.name && (!target.table.schema || target.table.schema === c.table.schema)) {
        c.converted = true;
      }
    }
    return false;
  });
}

function unwrapCast(n: AstValue): AstValue {
  let cur = n;
  while (cur && nodeType(cur) === 'TypeCast') cur = fields(cur).arg;
  return cur;
}

/** The sequence a regclass argument names: 'seq', 'seq'::regclass, pg_get_serial_sequence('t', 'c'). */
function sequenceArg(arg: AstValue): { seq: QualifiedName } | { table: QualifiedName; column: string } | undefined {
  const n = unwrapCast(arg);
  const c = as(n, 'A_Const');
  if (c) {
    const q = regclassName(constString(c) ?? '');
    return q ? { seq: q } : undefined;
  }
  const call = as(n, 'FuncCall');
  if (call) {
    const fn = names(call.funcname);
    if (fn[fn.length - 1] !== 'pg_get_serial_sequence') return undefined;
    const t = constString(as(unwrapCast(call.args?.[0]), 'A_Const'));
    const col = constString(as(unwrapCast(call.args?.[1]), 'A_Const'));
    const q = t !== undefined ? regclassName(t) : undefined;
    if (!q || col === undefined) return undefined;
    return { table: q, column: col };
  }
  return undefined;
}

// ---- messages ---------------------------------------------------------------------------------

function describe(c: Candidate): string {
  if (c.what === 'sequence') return `CREATE SEQUENCE ${shown(c.written)}`;
  const col = `column ${shown({ name: c.column! })} of ${shown(c.writtenTable!)}`;
  return c.what === 'serial' ? `${col} (serial: creates local sequence ${shown({ name: c.seq.name })})` : `identity ${col} (creates local sequence ${shown({ name: c.seq.name })})`;
}

function regclassLiteral(q: QualifiedName): string {
  return `${quoteLiteral(sqlName(q))}::regclass`;
}

function reportFor(target: Target, stmt: Stmt, list: Candidate[]) {
  const product = productName(target);
  const what = list.map(describe).join('; ');
  if (target.family === 'bdr1') return bdr1Report(stmt, list, what);
  const message =
    `${what}: a local sequence. On ${product} new sequences are local unless bdr.default_sequence_kind says otherwise, so every node hands out ` +
    `the same values and rows inserted on different nodes collide on the key (INSERT conflicts resolved by discarding rows) (§4, §6)`;
  const lines: string[] = ['-- Right after it, make the sequence global (a DDL-like function: replicated, takes the global DDL lock):'];
  const steps: Fix['steps'] = [];
  for (const c of list) {
    const sql = `SELECT bdr.alter_sequence_set_kind(${regclassLiteral(c.written)}, 'galloc')`;
    lines.push(`${sql};`);
    steps.push({ sql, mode: 'in-place' });
  }
  lines.push(
    "-- galloc hands each node chunks of values: allocating a new chunk needs a majority of nodes; set CACHE / START / MINVALUE / MAXVALUE before converting, and for a sequence that already handed out values pass a start above the highest value used on any node (§5.7).",
  );
  if (list.some((c) => c.type === 'int8')) {
    lines.push("-- for a bigint sequence, 'timeshard' needs no coordination between nodes: SELECT bdr.alter_sequence_set_kind(..., 'timeshard');");
  }
  lines.push("-- or, before creating sequences, for this migration's session: SET bdr.default_sequence_kind = 'galloc';");
  return { message, suggestion: lines.join('\n'), span: { start: stmt.start, end: stmt.end }, fix: { steps, keepOriginal: true } };
}

function bdr1Report(stmt: Stmt, list: Candidate[], what: string) {
  const message =
    `${what}: a local sequence. On BDR 1 a sequence is global only when created USING bdr (serial columns: with default_sequenceam = 'bdr'), ` +
    `so every node hands out the same values and rows inserted on different nodes collide on the key (§7.4)`;
  const lines: string[] = [];
  let fix: Fix | undefined;
  const original = stmt.file.source.text.slice(stmt.start, stmt.end).trim().replace(/;$/, '');
  if (stmt.type === 'CreateSeqStmt') {
    const opts = optionsOf(stmt.f.options);
    const n = clone(stmt.node!);
    n.CreateSeqStmt.options = (n.CreateSeqStmt.options ?? []).filter((o: AstValue) => ['start', 'owned_by'].includes(fields(o).defname));
    const sql = `${deparse(n)} USING bdr`;
    lines.push('-- A BDR 1 global sequence (only START and OWNED BY may be given with USING bdr):', `${sql};`);
    if (opts.every((o) => o.name === 'start' || o.name === 'owned_by')) fix = { steps: [{ sql, mode: 'in-place' }] };
  } else if (stmt.type === 'CreateStmt') {
    const sql = [`SET default_sequenceam = 'bdr'`, original, 'RESET default_sequenceam'];
    lines.push("-- Create the serial column's sequence as a global sequence:", ...sql.map((s) => `${s};`));
    if (list.every((c) => c.what === 'serial')) fix = { steps: sql.map((s) => ({ sql: s, mode: 'in-place' as const })) };
  } else {
    for (const c of list) {
      if (c.what === 'identity') continue;
      const table = sqlName(c.writtenTable!);
      const col = sqlName({ name: c.column! });
      const seqSql = sqlName(c.written);
      lines.push(
        '-- BDR 1 also rejects ADD COLUMN with a default on a regular table: add the column, then the default from a global sequence:',
        `CREATE SEQUENCE ${seqSql} USING bdr;`,
        `ALTER TABLE ${table} ADD COLUMN ${col} ${c.type === 'int8' ? 'bigint' : c.type === 'int2' ? 'smallint' : 'integer'};`,
        `ALTER TABLE ${table} ALTER COLUMN ${col} SET DEFAULT nextval(${quoteLiteral(seqSql)});`,
        `ALTER SEQUENCE ${seqSql} OWNED BY ${table}.${col};`,
        `-- existing rows keep NULL: fill them in batches, e.g. UPDATE ${table} SET ${col} = nextval(${quoteLiteral(seqSql)}) WHERE ${col} IS NULL AND <key range>;`,
      );
    }
  }
  if (list.some((c) => c.what === 'identity')) {
    lines.push('-- Identity columns need PostgreSQL 10: BDR 1 runs on PostgreSQL 9.4 – 9.6. Use a column with DEFAULT nextval() of a USING bdr sequence.');
  }
  lines.push(
    "-- BDR 1's docs call global sequences deprecated (they need a majority of nodes to hand out new values); the alternatives they recommend:",
    '-- a step/offset sequence: the same INCREMENT everywhere (at least the number of nodes), and on each node k, on that node only, SELECT setval(<sequence>, k);',
    '-- or UUID keys.',
  );
  return { message, suggestion: lines.join('\n'), span: { start: stmt.start, end: stmt.end }, fix };
}
