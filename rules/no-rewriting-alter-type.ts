/**
 * no-rewriting-alter-type: ALTER TABLE … ALTER COLUMN … TYPE that rewrites the table (not
 * binary-coercible, or any USING); on BDR 1 every ALTER COLUMN TYPE on a permanent table.
 * Spec §3 (ALTER COLUMN TYPE rows, error texts), §5.3 (workarounds a/b/c), §7.4 (BDR 1), §8, §1.3 (PGD 6).
 *
 * Whether PostgreSQL rewrites is decided as ATColumnChangeRequiresRewrite() does: a binary-coercible
 * cast (pg_cast castmethod 'b', from data/builtin-functions.json) to a type without a modifier, or the
 * same type with a modifier that does not shrink (varchar, varbit, numeric with the same scale,
 * timestamp/time precision: the planner support functions), keeps the data; anything else rewrites.
 */
import { AstValue, QualifiedName, fields, formatName, quoteIdent, rangeVarName, typeMods, walk } from '../src/ast';
import type { Catalog, Column, Table } from '../src/catalog';
import { Step, backfillSteps, fixSteps, helperName, notNullViaCheck, primaryKeyColumns, stepsText, refusedOnTable, tableRef } from '../src/column-rewrite';
import { shown } from '../src/describe';
import { describeLock } from '../src/pgd';
import type { RunModel } from '../src/model';
import type { Rule, Severity, StatementContext } from '../src/rule';
import { clone, deparse, deparseOr } from '../src/sqlgen';
import { Target, atLeast, productName } from '../src/targets';
import { builtins, isBinaryCoercible, typeKey } from '../src/volatility';

interface TypeSpec {
  /** Internal name without `[]` (int4, varchar, public.mood). */
  base: string;
  mods?: number[];
  isArray: boolean;
}

type Verdict =
  | { kind: 'safe' }
  | { kind: 'rewrite'; why: string; narrowing?: Narrowing }
  | { kind: 'unknown'; why: string };

/** A narrowing that a CHECK constraint can replace (spec §5.3a). */
type Narrowing = { type: 'length'; max: number; from: 'varchar' | 'text' | 'varchar-unbounded' } | { type: 'numeric'; precision: number; scale: number };

/**
 * Columns the migrations added to (or retyped on) tables they did not create: the catalog tracks no
 * columns of such tables, but the type these migrations gave a column is known all the same.
 * By run, then table key, then column name.
 */
interface ExternalColumn {
  spec: TypeSpec;
  notNull: boolean;
}
const externalColumns = new WeakMap<RunModel, Map<string, Map<string, ExternalColumn>>>();
/** How to undo each change, by transaction id (a ROLLBACK replays them backwards). */
const externalUndo = new WeakMap<RunModel, Map<number, Array<() => void>>>();

function externalOf(ctx: { model: RunModel }): Map<string, Map<string, ExternalColumn>> {
  let m = externalColumns.get(ctx.model);
  if (!m) {
    m = new Map();
    externalColumns.set(ctx.model, m);
  }
  return m;
}

/** Changes one table's column entry, remembering how to undo it if the transaction rolls back. */
function setExternal(ctx: StatementContext, k: string, column: string, value: ExternalColumn | undefined): void {
  const all = externalOf(ctx);
  let cols = all.get(k);
  if (!cols) {
    cols = new Map();
    all.set(k, cols);
  }
  const had = cols.has(column);
  const prev = cols.get(column);
  const table = cols;
  let undo = externalUndo.get(ctx.model);
  if (!undo) {
    undo = new Map();
    externalUndo.set(ctx.model, undo);
  }
  const list = undo.get(ctx.stmt.tx.id) ?? [];
  list.push(() => {
    if (had && prev) table.set(column, prev);
    else table.delete(column);
  });
  undo.set(ctx.stmt.tx.id, list);
  if (value === undefined) cols.delete(column);
  else cols.set(column, value);
}

/** The column as these migrations last declared it on a table they did not create. */
function externalColumn(ctx: StatementContext, q: QualifiedName, column: string): Column | undefined {
  const c = externalOf(ctx).get(ctx.catalog.tableKey(q))?.get(column);
  if (!c) return undefined;
  return { name: column, type: c.spec.base, typmods: c.spec.mods, isArray: c.spec.isArray, notNull: c.notNull, identity: false, generated: false };
}

/** Records what a statement does to the columns of tables the migrations did not create. */
function trackExternal(ctx: StatementContext): void {
  const { stmt } = ctx;
  if (!stmt.executed) return;
  const all = externalOf(ctx);
  if (stmt.type === 'AlterTableStmt' && (!stmt.f.objtype || stmt.f.objtype === 'OBJECT_TABLE')) {
    const q = rangeVarName(stmt.f.relation);
    if (ctx.table(q)) return;
    const k = ctx.catalog.tableKey(q);
    for (const cmdNode of stmt.f.cmds ?? []) {
      const cmd = fields(cmdNode);
      if (cmd.subtype === 'AT_AddColumn') {
        // ADD COLUMN IF NOT EXISTS may leave an existing column of another type in place.
        if (cmd.missing_ok) continue;
        const def = fields(cmd.def);
        const notNull = (def.constraints ?? []).some((c: AstValue) => ['CONSTR_NOTNULL', 'CONSTR_PRIMARY'].includes(fields(c).contype));
        setExternal(ctx, k, def.colname, { spec: specOf(def.typeName), notNull });
      } else if (cmd.subtype === 'AT_AlterColumnType') {
        const prev = all.get(k)?.get(cmd.name);
        setExternal(ctx, k, cmd.name, prev ? { spec: specOf(fields(cmd.def).typeName), notNull: prev.notNull } : undefined);
      } else if (cmd.subtype === 'AT_DropColumn') {
        setExternal(ctx, k, cmd.name, undefined);
      }
    }
  } else if (stmt.type === 'RenameStmt' && (stmt.f.renameType === 'OBJECT_COLUMN' || stmt.f.renameType === 'OBJECT_TABLE')) {
    const q = rangeVarName(stmt.f.relation);
    if (ctx.table(q)) return;
    const k = ctx.catalog.tableKey(q);
    const cols = all.get(k);
    if (!cols) return;
    if (stmt.f.renameType === 'OBJECT_TABLE') {
      for (const name of [...cols.keys()]) setExternal(ctx, k, name, undefined);
    } else {
      const moved = cols.get(stmt.f.subname);
      setExternal(ctx, k, stmt.f.subname, undefined);
      setExternal(ctx, k, stmt.f.newname, moved);
    }
  } else if (stmt.type === 'DropStmt' && stmt.f.removeType === 'OBJECT_TABLE') {
    for (const o of stmt.f.objects ?? []) {
      const parts = (fields(o).items ?? []).map((x: AstValue) => x?.String?.sval).filter(Boolean) as string[];
      if (parts.length === 0) continue;
      const q: QualifiedName = parts.length > 1 ? { schema: parts[parts.length - 2], name: parts[parts.length - 1] } : { name: parts[0] };
      if (ctx.table(q)) continue;
      const k = ctx.catalog.tableKey(q);
      for (const name of [...(all.get(k)?.keys() ?? [])]) setExternal(ctx, k, name, undefined);
    }
  }
}

export const rule: Rule = {
  meta: {
    id: 'no-rewriting-alter-type',
    description: 'ALTER COLUMN … TYPE that rewrites the table (not binary-coercible, or any USING); on BDR 1 every ALTER COLUMN TYPE',
    severity: (target) => (target.family === 'pgd6' ? 'warning' : 'error'),
    fixable: true,
    spec: ['§3', '§5.3', '§7.4', '§8', '§1.3'],
    options: {
      batchSize: { type: 'number', default: 10000, description: 'Rows per batch in the suggested backfill of the new column' },
    },
  },
  statement(ctx) {
    try {
      check(ctx);
    } finally {
      trackExternal(ctx);
    }
  },
  transaction(ctx) {
    // A rolled-back transaction's column changes never happened.
    const undo = externalUndo.get(ctx.model);
    const list = undo?.get(ctx.tx.id);
    if (!undo || !list) return;
    undo.delete(ctx.tx.id);
    const last = ctx.tx.statements[ctx.tx.statements.length - 1];
    if (last?.type !== 'TransactionStmt' || (last.f.kind !== 'TRANS_STMT_ROLLBACK' && last.f.kind !== 'TRANS_STMT_ROLLBACK_PREPARED')) return;
    for (let i = list.length - 1; i >= 0; i--) list[i]();
  },
};

function check(ctx: StatementContext): void {
  const { stmt, target, facts } = ctx;
  const altered = refusedOnTable(ctx);
  if (!altered) return;
  const { q, table, isNew } = altered;
  const bdr1 = target.family === 'bdr1';
  const cmds: AstValue[] = stmt.f.cmds ?? [];
  const product = productName(target);

  for (const cmdNode of cmds) {
    const cmd = fields(cmdNode);
    if (cmd.subtype !== 'AT_AlterColumnType') continue;
    const def = fields(cmd.def);
    const column: string = cmd.name;
    const newType = specOf(def.typeName);
    const using = def.raw_default;
    const old = table ? table.columns.get(column) : externalColumn(ctx, q, column);
    const verdict = decide(old, newType, using, ctx.catalog, table === undefined);
    if (verdict.kind === 'safe' && !bdr1) continue;

    const newSql = typeSql(def.typeName);
    if (isNew) {
      ctx.report({
        message:
          `ALTER COLUMN "${column}" TYPE ${newSql} on table ${shown(q)}, created earlier in this file: BDR 1 rejects every ALTER COLUMN TYPE on a ` +
          `permanent table, even an empty one (spec §7.4): ERROR: ALTER TABLE ... ALTER COLUMN TYPE may only affect UNLOGGED or TEMPORARY tables ` +
          `when BDR is active; ${q.name} is a regular table`,
        suggestion:
          `-- Give the column its final type where the table is created (BDR 1 cannot change it afterwards):\n` +
          `-- CREATE TABLE ${tableRef(q).sql} (..., ${quoteIdent(column)} ${newSql}, ...);`,
        span: { start: stmt.start, end: stmt.end },
      });
      continue;
    }
    const subject = `ALTER COLUMN "${column}" TYPE ${newSql} on existing table ${shown(q)}`;
    let message: string;
    let severity: Severity | undefined;
    if (bdr1) {
      const what = verdict.kind === 'rewrite' ? ` (it would also rewrite the table: ${verdict.why})` : '';
      message =
        `${subject}: BDR 1 rejects every ALTER COLUMN TYPE on a permanent table, binary-coercible or not${what} (spec §7.4): ` +
        `ERROR: ALTER TABLE ... ALTER COLUMN TYPE may only affect UNLOGGED or TEMPORARY tables when BDR is active; ${q.name} is a regular table`;
    } else if (verdict.kind === 'unknown') {
      severity = 'warning';
      message =
        `${subject} could not be proven safe: ${verdict.why}. If the change is not binary-coercible it rewrites the table, ` +
        (target.family === 'pgd6'
          ? `which ${product} allows but runs under an ACCESS EXCLUSIVE lock on every node`
          : `and ${product} rejects it: ${rewriteError(target)}`);
    } else if (verdict.kind === 'rewrite' && !facts.replicated && facts.localReason) {
      if (!using) severity = 'warning';
      message =
        `${subject} rewrites the table (${verdict.why}); it is not replicated here (${facts.localReason}): ` +
        `each node rewrites its copy under an ACCESS EXCLUSIVE lock, and while the nodes' types differ a value the new type cannot hold halts replication (spec §5.3c)`;
    } else if (verdict.kind === 'rewrite' && target.family === 'pgd6') {
      message =
        `${subject} rewrites the table (${verdict.why}): ${product} allows it (spec §1.3), but every node rewrites the whole table ` +
        `under an ACCESS EXCLUSIVE lock while holding ${describeLock(facts.lock === 'none' ? 'ddl' : facts.lock, target)}`;
    } else if (verdict.kind === 'rewrite') {
      message = `${subject} rewrites the table (${verdict.why}): ${product} rejects it on a replicated table (spec §3, §8): ${rewriteError(target)}`;
    } else {
      continue;
    }

    const plan = suggestion(target, q, table, column, old, def, verdict, ctx.options.batchSize as number);
    ctx.report({
      message,
      severity,
      suggestion: plan.text,
      span: { start: stmt.start, end: stmt.end },
      fix: plan.fix && cmds.length === 1 && !stmt.via ? { steps: fixSteps(plan.fix) } : undefined,
    });
  }
}

function rewriteError(target: Target): string {
  const node = target.family === 'pgd5' || target.family === 'pgd6' ? 'PGD' : 'BDR';
  return `ERROR: ALTER TABLE ... ALTER COLUMN TYPE that rewrites table data may not affect replicated tables on a ${node} node`;
}

function specOf(typeName: AstValue): TypeSpec {
  const k = typeKey(typeName) ?? '';
  const isArray = k.endsWith('[]');
  return { base: isArray ? k.slice(0, -2) : k, mods: typeMods(typeName), isArray };
}

function typeSql(typeName: AstValue): string {
  try {
    return deparse({ TypeName: typeName });
  } catch {
    return typeKey(typeName) ?? 'the new type';
  }
}

function shownType(t: TypeSpec): string {
  return `${t.base}${t.mods ? `(${t.mods.join(',')})` : ''}${t.isArray ? '[]' : ''}`;
}

function sameBase(a: string, b: string): boolean {
  if (a === b) return true;
  const la = a.split('.').pop();
  const lb = b.split('.').pop();
  return la === lb && (!a.includes('.') || !b.includes('.') || a.startsWith('public.') || b.startsWith('public.'));
}

function sameMods(a?: number[], b?: number[]): boolean {
  if (!a && !b) return true;
  if (!a || !b || a.length !== b.length) return false;
  return a.every((x, i) => x === b[i]);
}

/** True when the type is one of PostgreSQL's built-in types (it appears in pg_cast or has an input function). */
function isBuiltinType(t: string): boolean {
  const d = builtins();
  if (d.functions[`${t}in`] || d.functions[`${t}_in`]) return true;
  for (const k of Object.keys(d.casts)) {
    const [s, x] = k.split('->');
    if (s === t || x === t) return true;
  }
  return false;
}

/** Whether PostgreSQL rewrites the table for this change (ATColumnChangeRequiresRewrite). */
function decide(old: Column | undefined, to: TypeSpec, using: AstValue, catalog: Catalog, tableUnknown: boolean): Verdict {
  if (using) return { kind: 'rewrite', why: 'a USING clause always rewrites every row' };
  if (!old) {
    return {
      kind: 'unknown',
      why: tableUnknown
        ? 'the table was not created by these migrations, so its current column type is unknown'
        : 'the column was not created by these migrations, so its current type is unknown',
    };
  }
  const from: TypeSpec = { base: old.type, mods: old.typmods, isArray: old.isArray };
  const pair = `${shownType(from)} → ${shownType(to)}`;
  if (from.isArray !== to.isArray) return { kind: 'rewrite', why: `${pair} converts every value` };
  if (from.isArray) {
    if (sameBase(from.base, to.base) && sameMods(from.mods, to.mods)) return { kind: 'safe' };
    return { kind: 'rewrite', why: `${pair}: an array's element type or modifier change converts every element` };
  }
  if (sameBase(from.base, to.base)) return sameType(from, to, pair);
  if ((from.base === 'timestamp' && to.base === 'timestamptz') || (from.base === 'timestamptz' && to.base === 'timestamp')) {
    return {
      kind: 'rewrite',
      why: `${pair}: PostgreSQL skips the rewrite only when the session TimeZone is UTC, which a linter cannot know for every node`,
    };
  }
  if (isBinaryCoercible(from.base, to.base)) {
    if (!to.mods) return { kind: 'safe' };
    if (to.base === 'varchar' && (from.base === 'text' || from.base === 'bpchar' || from.base === 'xml')) {
      return { kind: 'rewrite', why: `${pair}: the new length limit is checked on every row`, narrowing: from.base === 'text' ? { type: 'length', max: to.mods[0], from: 'text' } : undefined };
    }
    return { kind: 'rewrite', why: `${pair}: the new type modifier is applied to every row` };
  }
  const fromBuiltin = isBuiltinType(from.base);
  const toBuiltin = isBuiltinType(to.base);
  if (fromBuiltin && toBuiltin) return { kind: 'rewrite', why: `${pair} is not binary-coercible` };
  const userTo = catalog.type(nameOf(to.base));
  const userFrom = catalog.type(nameOf(from.base));
  if (userTo?.kind === 'domain' || userFrom?.kind === 'domain') {
    return { kind: 'unknown', why: `${pair} involves a domain, whose base type and constraints decide whether the table is rewritten` };
  }
  if (userTo || userFrom) {
    return { kind: 'rewrite', why: `${pair} is not binary-coercible` };
  }
  return { kind: 'unknown', why: `${pair} involves a type these migrations did not create, so whether it is binary-coercible is unknown` };
}

function nameOf(t: string): QualifiedName {
  const parts = t.split('.');
  return parts.length > 1 ? { schema: parts[0], name: parts[1] } : { name: t };
}

/** Same base type, possibly a different type modifier (the planner support functions' rules). */
function sameType(from: TypeSpec, to: TypeSpec, pair: string): Verdict {
  if (sameMods(from.mods, to.mods)) return { kind: 'safe' };
  if (!to.mods) return { kind: 'safe' }; // dropping the modifier: no length coercion at all
  const base = from.base;
  if (base === 'interval') return intervalChange(from.mods, to.mods, pair);
  if (['timestamp', 'timestamptz', 'time', 'timetz'].includes(base) && to.mods[0] >= 6) {
    // TemporalSimplify(): the maximum precision (6) keeps every stored value, whatever the old modifier.
    return { kind: 'safe' };
  }
  if (!from.mods) {
    const narrowing: Narrowing | undefined = base === 'varchar' ? { type: 'length', max: to.mods[0], from: 'varchar-unbounded' } : undefined;
    return { kind: 'rewrite', why: `${pair}: the new type modifier is checked on every row`, narrowing };
  }
  switch (base) {
    case 'varchar':
    case 'varbit':
      if (to.mods[0] >= from.mods[0]) return { kind: 'safe' };
      return {
        kind: 'rewrite',
        why: `${pair} shortens the limit, so every row is checked and rewritten`,
        narrowing: base === 'varchar' ? { type: 'length', max: to.mods[0], from: 'varchar' } : undefined,
      };
    case 'numeric': {
      const [p, s = 0] = from.mods;
      const [p2, s2 = 0] = to.mods;
      if (s2 === s && p2 >= p) return { kind: 'safe' };
      return {
        kind: 'rewrite',
        why: s2 !== s ? `${pair} changes the scale, so every value is re-rounded` : `${pair} lowers the precision, so every value is checked`,
        narrowing: s2 === s ? { type: 'numeric', precision: p2, scale: s } : undefined,
      };
    }
    case 'timestamp':
    case 'timestamptz':
    case 'time':
    case 'timetz':
      if (to.mods[0] >= from.mods[0]) return { kind: 'safe' };
      return { kind: 'rewrite', why: `${pair} lowers the fractional-second precision, so every value is rounded` };
    case 'bpchar':
    case 'bit':
      return { kind: 'rewrite', why: `${pair}: a ${base === 'bpchar' ? 'char(n)' : 'bit(n)'} length change pads or checks every value` };
    default:
      return { kind: 'unknown', why: `${pair}: the modifier change of type ${base} is not analysed` };
  }
}

/**
 * interval_support(): the modifier is [range bitmap] or [range bitmap, precision] (INTERVAL_FULL_RANGE
 * 0x7FFF, INTERVAL_FULL_PRECISION 0xFFFF when absent). Only the temporally smallest field matters, and
 * the precision only when the old range reaches SECOND.
 */
function intervalChange(fromMods: number[] | undefined, toMods: number[], pair: string): Verdict {
  const FULL_RANGE = 0x7fff;
  const FULL_PRECISION = 0xffff;
  const SECOND = 12;
  const fls = (x: number): number => (x <= 0 ? 0 : Math.floor(Math.log2(x)) + 1);
  const oldRange = fromMods?.[0] ?? FULL_RANGE;
  const oldPrecis = fromMods && fromMods.length > 1 ? fromMods[1] : FULL_PRECISION;
  const newRange = toMods[0];
  const newPrecis = toMods.length > 1 ? toMods[1] : FULL_PRECISION;
  if (!Number.isInteger(oldRange) || !Number.isInteger(newRange)) return { kind: 'unknown', why: `${pair}: the interval modifier is not understood` };
  const newFls = fls(newRange);
  const oldFls = fls(oldRange);
  if ((newFls >= SECOND || newFls >= oldFls) && (oldFls < SECOND || newPrecis >= 6 || newPrecis >= oldPrecis)) return { kind: 'safe' };
  return { kind: 'rewrite', why: `${pair} drops interval fields or fractional-second precision, so every value is truncated` };
}

/** Suggestion (and, for narrowings, the fix) per spec §5.3. */
function suggestion(
  target: Target,
  q: QualifiedName,
  table: Table | undefined,
  column: string,
  old: Column | undefined,
  def: AstValue,
  verdict: Verdict,
  batchSize: number,
): { text: string; fix?: Step[] } {
  const t = tableRef(q);
  const c = quoteIdent(column);
  const bdr1 = target.family === 'bdr1';
  const lines: string[] = [];
  if (verdict.kind === 'rewrite' && verdict.narrowing) {
    const n = verdict.narrowing;
    const con = quoteIdent(helperName(q.name, column, n.type === 'length' ? 'length' : 'range'));
    const check = n.type === 'length' ? `length(${c}) <= ${n.max}` : `abs(${c}) < 1${'0'.repeat(Math.max(0, n.precision - n.scale))}`;
    const keepType = bdr1 || n.type === 'numeric' || n.from !== 'varchar';
    const first = keepType
      ? `ALTER TABLE ${t.sql} ADD CONSTRAINT ${con} CHECK (${check}) NOT VALID`
      : `ALTER TABLE ${t.sql} ALTER COLUMN ${c} TYPE varchar, ADD CONSTRAINT ${con} CHECK (${check}) NOT VALID`;
    const steps: Step[] = [
      {
        comment: keepType
          ? `in place: keep the column's type and enforce the new limit with a NOT VALID CHECK (spec §5.3a)${bdr1 ? '; BDR 1 rejects any ALTER COLUMN TYPE' : ''}`
          : 'in place: drop the length limit (binary-coercible: no rewrite) and enforce the new one with a NOT VALID CHECK (spec §5.3a)',
        sql: first,
        mode: 'in-place',
      },
      {
        comment: bdr1
          ? 'own transaction: VALIDATE scans the table (on BDR 1 it takes the global DDL lock in write mode, spec §7.1)'
          : 'own transaction: VALIDATE scans the table without blocking writes (global DDL lock only, spec §5.2)',
        sql: `ALTER TABLE ${t.sql} VALIDATE CONSTRAINT ${con}`,
        mode: 'own-transaction',
      },
    ];
    lines.push(`-- Replace the narrowing by a constraint: no rewrite.`, stepsText(steps));
    return { text: lines.join('\n'), fix: steps };
  }
  if (verdict.kind === 'rewrite' && /TimeZone/.test(verdict.why)) {
    lines.push(
      '-- PostgreSQL 12+ does not rewrite timestamp <-> timestamptz when the session TimeZone is UTC (the stored values are the same);',
      '-- only rely on that if every node applies the statement with TimeZone = UTC. Otherwise:',
    );
  }
  lines.push(generalCase(target, q, table, column, old, def, batchSize));
  if (!bdr1 && target.family !== 'pgd6' && !def.raw_default) {
    const alter = `ALTER TABLE ${t.sql} ALTER COLUMN ${c} TYPE ${typeSql(def.typeName)}`;
    lines.push(
      '-- Alternative (spec §5.3c), only without USING and when PostgreSQL has an assignment cast between the two types:',
      '-- on each node in turn, outside any transaction block; it still rewrites that node\'s copy and takes the global DML lock briefly,',
      '-- and while the nodes differ, a value written on a node not yet altered that the new type cannot hold halts replication.',
      'SET bdr.ddl_replication TO FALSE;',
      `${alter};`,
      'RESET bdr.ddl_replication;',
    );
    if (target.family === 'pgd5' && atLeast(target, 5, 9)) {
      lines.push('-- (PGD 5.9 also lets a superuser override the check with SET bdr.permit_unsafe_commands = on; the rewrite still holds its locks.)');
    }
  }
  return { text: lines.join('\n') };
}

/** Spec §5.3b: new column, trigger, batched backfill, swap in one transaction. */
function generalCase(
  target: Target,
  q: QualifiedName,
  table: Table | undefined,
  column: string,
  old: Column | undefined,
  def: AstValue,
  batchSize: number,
): string {
  const t = tableRef(q);
  const c = quoteIdent(column);
  const newName = `${column}_new`;
  const nc = quoteIdent(newName);
  const fn = formatName({ schema: q.schema, name: helperName(q.name, column, 'sync') });
  const trg = quoteIdent(helperName(q.name, column, 'sync'));
  const using = def.raw_default;
  // A placeholder when the deparser cannot write the USING expression (this is suggestion text, not a fix).
  const convRow = using ? deparseOr(qualifyColumns(using, 'new'), '<the USING expression, with NEW. before each column>') : `NEW.${c}`;
  const conv = using ? deparseOr(using, '<the USING expression>') : c;
  const typeText = typeSql(def.typeName);
  const body = ['BEGIN', `  NEW.${nc} := ${convRow};`, '  RETURN NEW;', 'END'].join('\n');
  const tag = body.includes('$sync$') ? '$sync1$' : '$sync$';
  const exec = target.family === 'bdr1' || target.family === 'bdr3' ? 'EXECUTE PROCEDURE' : 'EXECUTE FUNCTION';
  const steps: Step[] = [
    { comment: 'in place of the ALTER COLUMN TYPE: the new column, empty (no rewrite)', sql: `ALTER TABLE ${t.sql} ADD COLUMN ${nc} ${typeText}`, mode: 'in-place' },
    {
      comment: 'same transaction: keep it in step with every write from now on',
      sql: `CREATE FUNCTION ${fn}() RETURNS trigger LANGUAGE plpgsql AS ${tag}\n${body}\n${tag}`,
      mode: 'in-place',
    },
    {
      comment: 'same transaction',
      sql: `CREATE TRIGGER ${trg} BEFORE INSERT OR UPDATE ON ${t.sql} FOR EACH ROW ${exec} ${fn}()`,
      mode: 'in-place',
    },
  ];
  const key = primaryKeyColumns(table);
  steps.push(
    ...backfillSteps({
      target,
      table: t,
      set: `${nc} = ${conv}`,
      pending: `${nc} IS NULL AND ${using ? `(${conv})` : c} IS NOT NULL`,
      batchSize,
      key: key && !key.includes(column) ? key : undefined,
      what: `"${newName}"`,
    }),
  );
  if (old?.notNull) {
    if (target.family === 'bdr1') {
      steps.push({ comment: 'own transaction: NOT NULL (scans the table)', sql: `ALTER TABLE ${t.sql} ALTER COLUMN ${nc} SET NOT NULL`, mode: 'own-transaction' });
    } else {
      steps.push(...notNullViaCheck({ target, table: t, column: newName, firstMode: 'own-transaction' }));
    }
  }
  const swap: string[] = ['BEGIN;', `DROP TRIGGER ${trg} ON ${t.sql};`, `DROP FUNCTION ${fn}();`];
  const oldDefault = old?.default ? defaultSql(old.default) : undefined;
  if (oldDefault) swap.push(`ALTER TABLE ${t.sql} ALTER COLUMN ${nc} SET DEFAULT ${oldDefault};`);
  else if (old?.default) swap.push(`-- re-create the old column's default on ${nc} here`);
  swap.push(`ALTER TABLE ${t.sql} DROP COLUMN ${c};`, `ALTER TABLE ${t.sql} RENAME COLUMN ${nc} TO ${c};`, 'COMMIT;');
  const head = `-- Change the type without rewriting the table in place (spec §5.3b): a new column, kept in step by a trigger, backfilled in batches, then swapped.`;
  const notes = [
    `-- Re-create the indexes and constraints of ${c} on ${nc}: CREATE INDEX CONCURRENTLY (outside a transaction block), ADD CONSTRAINT ... NOT VALID + VALIDATE.`,
  ];
  if (key?.includes(column)) {
    const pk = quoteIdent(`${q.name}_pkey`);
    notes.push(
      `-- ${c} is in the primary key: build CREATE UNIQUE INDEX CONCURRENTLY ${quoteIdent(helperName(q.name, newName, 'key'))} ON ${t.sql} (...${nc}...) first; DROP COLUMN drops the old key,`,
      `-- so add ALTER TABLE ${t.sql} ADD CONSTRAINT ${pk} PRIMARY KEY USING INDEX ${quoteIdent(helperName(q.name, newName, 'key'))}; to the swap.`,
    );
  }
  return [head, stepsText(steps), ...notes, '-- Then swap in one transaction (views and functions that use the column must be re-created):', ...swap].join('\n');
}

/** The column's default as SQL for SET DEFAULT, when it can be written (not the synthetic serial one). */
function defaultSql(node: AstValue): string | undefined {
  if (node?.FuncCall && (node.FuncCall.args ?? []).length === 0 && fields(node).funcname?.length === 1) {
    const n = fields(node).funcname[0]?.String?.sval;
    if (n === 'nextval') return undefined; // serial: the sequence must be re-owned by hand
  }
  try {
    return deparse(node);
  } catch {
    return undefined;
  }
}

/** The USING expression for a row trigger: every column reference `x` becomes `NEW.x`. */
function qualifyColumns(expr: AstValue, row: string): AstValue {
  const copy = clone(expr);
  walk(copy, (type, value) => {
    if (type === 'ColumnRef' && Array.isArray(value.fields) && value.fields.length === 1 && value.fields[0].String) {
      value.fields = [{ String: { sval: row } }, value.fields[0]];
    }
    return undefined;
  });
  return copy;
}
