/**
 * no-add-column-volatile-default: ALTER TABLE … ADD COLUMN whose DEFAULT is not immutable (volatile
 * or stable: now(), CURRENT_TIMESTAMP, random(), gen_random_uuid(), nextval(), serial, identity, a cast
 * that is not immutable) on an existing table; on BDR 1 any DEFAULT at all.
 * Spec §3 (ADD COLUMN … DEFAULT rows), §5.1 (the documented rewrite), §7.4 (BDR 1 rejects every
 * ADD COLUMN … DEFAULT on a permanent table), §1.3 (PGD 6 removed the restriction).
 * Volatility is decided from PostgreSQL's catalog (src/volatility.ts).
 */
import { AstValue, constString, fields, formatName, quoteIdent, quoteLiteral, typeNameString } from '../src/ast';
import { isSerialType } from '../src/catalog';
import { Step, backfillSteps, fixSteps, helperName, notNullViaCheck, primaryKeyColumns, stepsText, refusedOnTable, tableRef } from '../src/column-rewrite';
import { shown } from '../src/describe';
import { describeLock } from '../src/pgd';
import type { Rule } from '../src/rule';
import { clone, deparse } from '../src/sqlgen';
import { productName } from '../src/targets';
import { ExprVolatility, analyzeExpression, describeCauses, literalText, typeKey } from '../src/volatility';

const INT_SQL: Record<string, string> = { int2: 'smallint', int4: 'integer', int8: 'bigint' };

interface Flagged {
  /** Index of the subcommand in the statement. */
  index: number;
  column: string;
  kind: 'default' | 'serial' | 'identity';
  expr?: AstValue;
  analysis?: ExprVolatility;
  notNull: boolean;
  primary?: { name?: string };
  unique?: { name?: string };
  /** Base type of a serial column (int2, int4, int8). */
  serialBase?: string;
}

export const rule: Rule = {
  meta: {
    id: 'no-add-column-volatile-default',
    description: 'ALTER TABLE … ADD COLUMN with a DEFAULT that is not immutable (on BDR 1: any DEFAULT) on an existing table',
    severity: (target) => (target.family === 'pgd6' ? 'warning' : 'error'),
    fixable: true,
    spec: ['§3', '§5.1', '§7.4', '§1.3'],
    options: {
      batchSize: { type: 'number', default: 10000, description: 'Rows per batch in the suggested backfill' },
    },
  },
  statement(ctx) {
    const { stmt, target, facts } = ctx;
    const altered = refusedOnTable(ctx);
    if (!altered) return;
    const { q, table, isNew } = altered;
    const bdr1 = target.family === 'bdr1';

    const flagged: Flagged[] = [];
    (stmt.f.cmds ?? []).forEach((cmdNode: AstValue, index: number) => {
      const cmd = fields(cmdNode);
      if (cmd.subtype !== 'AT_AddColumn') return;
      // ADD COLUMN IF NOT EXISTS of a column the table already has: PostgreSQL skips it (NOTICE).
      if (cmd.missing_ok && table?.columns.has(fields(cmd.def).colname)) return;
      const f = examine(fields(cmd.def), index);
      if (!f) return;
      if (f.kind === 'default' && !bdr1) {
        f.analysis = analyzeExpression(f.expr, { catalog: ctx.catalog, targetType: typeKey(fields(cmd.def).typeName) });
        if (f.analysis.immutable) return;
      }
      flagged.push(f);
    });
    if (flagged.length === 0) return;

    const tname = shown(q);
    if (isNew) {
      const defaults = flagged.filter((f) => f.kind !== 'identity');
      if (defaults.length === 0) return;
      const columns = defaults.map((f) => describeColumn(f, true)).join('; ');
      ctx.report({
        message:
          `ADD COLUMN on table ${tname}, created earlier in this file: ${columns}. BDR 1 rejects ADD COLUMN with any DEFAULT (constants and ` +
          `serial included) on a permanent table, even an empty one (spec §7.4): ERROR: ALTER TABLE ... ADD COLUMN ... DEFAULT may only ` +
          `affect UNLOGGED or TEMPORARY tables when BDR is active; ${q.name} is a regular table`,
        suggestion:
          `-- Give the column its default where the table is created (BDR 1 checks only ALTER TABLE, not CREATE TABLE), or add it\n` +
          `-- without a default and set one afterwards (ALTER TABLE ${tableRef(q).sql} ALTER COLUMN ... SET DEFAULT ..., allowed on BDR 1):\n` +
          `-- CREATE TABLE ${tableRef(q).sql} (..., ${defaults.map((f) => quoteIdent(f.column)).join(' ..., ')} ... DEFAULT ..., ...);`,
        span: { start: stmt.start, end: stmt.end },
      });
      return;
    }
    const what = flagged.map((f) => describeColumn(f, bdr1)).join('; ');
    const product = productName(target);
    let consequence: string;
    if (bdr1) {
      consequence =
        `BDR 1 rejects ADD COLUMN with any DEFAULT (constants and serial included) on a permanent table (spec §7.4): ` +
        `ERROR: ALTER TABLE ... ADD COLUMN ... DEFAULT may only affect UNLOGGED or TEMPORARY tables when BDR is active; ${q.name} is a regular table`;
    } else if (!facts.replicated && facts.localReason) {
      consequence = `it is not replicated here (${facts.localReason}), so every node fills the column with its own values: the nodes' data diverge (spec §3)`;
    } else if (target.family === 'pgd6') {
      const rewrites = flagged.some((f) => f.kind !== 'default' || f.analysis?.volatility === 'v' || f.analysis?.causes.some((c) => c.volatility === 'unknown'));
      consequence = rewrites
        ? `${product} allows it (spec §1.3), but PostgreSQL rewrites the whole table to fill the column, under an ACCESS EXCLUSIVE lock, while holding ${describeLock(facts.lock === 'none' ? 'ddl' : facts.lock, target)}`
        : `${product} allows it (spec §1.3), but a stable default is evaluated once on each node when it applies the statement: existing rows get each node's own value`;
    } else if (flagged.every((f) => f.kind === 'default' && f.analysis && f.analysis.causes.length > 0 && f.analysis.causes.every((c) => c.kind === 'clock-literal'))) {
      consequence =
        `${product}'s check may not catch it (PostgreSQL turns the literal into a constant when it parses the statement), but the DDL is replicated ` +
        `as its text and run again on every node (spec §1): existing rows get a different value on each node, the "different data on different nodes" ` +
        `that ${product} forbids non-immutable defaults for (spec §3)`;
    } else {
      consequence =
        `${product} rejects it on a replicated table because it "results in different data on different nodes" (spec §3); ` +
        `the error as reported (spec §8): "ALTER TABLE ... ADD COLUMN ... (mutable) DEFAULT may not affect replicated tables on a BDR node"`;
    }
    const message = `ADD COLUMN on existing table ${tname}: ${what}. ${capitalize(consequence)}`;

    const plan = buildPlan(ctx.stmt.node!, flagged, q, table, ctx.options.batchSize as number, target);
    ctx.report({
      message,
      suggestion: plan.text,
      span: { start: stmt.start, end: stmt.end },
      fix: plan.fixable && !stmt.via ? { steps: fixSteps(plan.steps) } : undefined,
    });
  },
};

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** What a column definition adds: its default, serial, identity; undefined when it has none. */
function examine(def: AstValue, index: number): Flagged | undefined {
  const column: string = def.colname;
  const rawType = typeNameString(def.typeName);
  let expr: AstValue = def.raw_default;
  let identity = false;
  let notNull = false;
  let primary: Flagged['primary'];
  let unique: Flagged['unique'];
  for (const c of def.constraints ?? []) {
    const cf = fields(c);
    switch (cf.contype) {
      case 'CONSTR_DEFAULT':
        expr = cf.raw_expr;
        break;
      case 'CONSTR_IDENTITY':
        identity = true;
        break;
      case 'CONSTR_GENERATED':
        return undefined; // generated columns are out of scope
      case 'CONSTR_NOTNULL':
        notNull = true;
        break;
      case 'CONSTR_NULL':
        notNull = false;
        break;
      case 'CONSTR_PRIMARY':
        primary = { name: cf.conname || undefined };
        break;
      case 'CONSTR_UNIQUE':
        unique = { name: cf.conname || undefined };
        break;
      default:
        break;
    }
  }
  const serial = isSerialType(rawType);
  if (!serial && !identity && expr === undefined) return undefined;
  const kind: Flagged['kind'] = serial ? 'serial' : identity ? 'identity' : 'default';
  return {
    index,
    column,
    kind,
    expr,
    notNull: notNull || serial || identity || !!primary,
    primary,
    unique,
    serialBase: serial ? (typeKey(def.typeName) ?? 'int4') : undefined,
  };
}

function describeColumn(f: Flagged, bdr1: boolean): string {
  const col = `"${f.column}"`;
  if (f.kind === 'serial') return `${col} is a serial column, whose DEFAULT nextval() is volatile (every row gets its own value)`;
  if (f.kind === 'identity') return `${col} is an identity column: every existing row gets its own value from a sequence (volatile)`;
  const sql = deparseSafe(f.expr);
  if (bdr1 || !f.analysis) return `${col} has DEFAULT ${sql}`;
  const causes = f.analysis.causes;
  if (causes.length === 1 && causes[0].sql === sql) return `${col} has DEFAULT ${sql}, which ${causes[0].why}`;
  return `${col} has DEFAULT ${sql}, which is not immutable: ${describeCauses(causes)}`;
}

function deparseSafe(node: AstValue): string {
  try {
    return deparse(node);
  } catch {
    return '(expression)';
  }
}

/** The rewrite (spec §5.1; BDR 1: §7.4): empty column, default for new rows, batched backfill, NOT NULL. */
function buildPlan(
  node: AstValue,
  flagged: Flagged[],
  q: { schema?: string; name: string },
  table: Parameters<typeof primaryKeyColumns>[0],
  batchSize: number,
  target: Parameters<typeof backfillSteps>[0]['target'],
): { text: string; steps: Step[]; fixable: boolean } {
  const t = tableRef(q);
  const bdr1 = target.family === 'bdr1';
  const steps: Step[] = [];
  const after: Step[] = [];
  const defaults: string[] = [];
  const stripped = clone(node);
  const cmds: AstValue[] = stripped.AlterTableStmt.cmds;
  const localSequenceKind = target.family === 'bdr3' || (target.family === 'pgd4' && target.minor === 0);

  for (const f of flagged) {
    const def = fields(fields(cmds[f.index]).def);
    // The column as added in place: no DEFAULT, no NOT NULL, no identity, no PRIMARY KEY / UNIQUE.
    delete def.raw_default;
    def.constraints = (def.constraints ?? []).filter((c: AstValue) => {
      const ct = fields(c).contype;
      return !['CONSTR_DEFAULT', 'CONSTR_NOTNULL', 'CONSTR_IDENTITY', 'CONSTR_PRIMARY', 'CONSTR_UNIQUE'].includes(ct);
    });
    if (def.constraints.length === 0) delete def.constraints;
    const col = quoteIdent(f.column);
    let defaultSql: string;
    if (f.kind === 'serial' || f.kind === 'identity') {
      if (f.kind === 'serial') def.typeName = { names: [{ String: { sval: 'pg_catalog' } }, { String: { sval: f.serialBase } }], typemod: -1 };
      const seq = helperName(q.name, f.column, 'seq');
      const seqSql = formatName({ schema: q.schema, name: seq });
      const base = f.kind === 'serial' ? f.serialBase! : (typeKey(def.typeName) ?? 'int8');
      const as = INT_SQL[base];
      steps.push({
        comment: `in place: the sequence ${f.kind === 'serial' ? 'the serial column would have created' : 'for the new column'}`,
        sql: bdr1 ? `CREATE SEQUENCE ${seqSql} USING bdr` : `CREATE SEQUENCE ${seqSql}${as ? ` AS ${as}` : ''}`,
        mode: 'in-place',
      });
      if (localSequenceKind) {
        steps.push({
          comment: 'in place: make it a global sequence (the default kind is local on this version, spec §6)',
          sql: `SELECT bdr.alter_sequence_set_kind(${quoteLiteral(seqSql)}, 'galloc')`,
          mode: 'in-place',
        });
      }
      after.push({ comment: 'in place: the column owns its sequence, as with serial', sql: `ALTER SEQUENCE ${seqSql} OWNED BY ${t.sql}.${col}`, mode: 'in-place' });
      defaultSql = `nextval(${quoteLiteral(seqSql)})`;
    } else {
      defaultSql = deparseSafe(f.expr);
    }
    defaults.push(`ALTER COLUMN ${col} SET DEFAULT ${defaultSql}`);
  }

  steps.push({
    comment: 'in place: add the column without DEFAULT or NOT NULL (a catalog-only change, no rewrite)',
    sql: deparse(stripped),
    mode: 'in-place',
  });
  steps.push(...after);
  steps.push({
    comment: 'in place: the default for rows inserted from now on (does not touch existing rows)',
    sql: `ALTER TABLE ${t.sql} ${defaults.join(', ')}`,
    mode: 'in-place',
  });

  const key = primaryKeyColumns(table);
  for (const f of flagged) {
    const col = quoteIdent(f.column);
    steps.push(
      ...backfillSteps({
        target,
        table: t,
        set: `${col} = DEFAULT`,
        pending: `${col} IS NULL`,
        batchSize,
        key: key && !key.includes(f.column) ? key : undefined,
        what: `"${f.column}"`,
      }),
    );
  }
  for (const f of flagged) {
    if (!f.notNull) continue;
    if (bdr1) {
      steps.push({
        comment: 'own transaction: BDR 1 takes only the global DDL lock for SET NOT NULL (spec §7.1); PostgreSQL 9.4–9.6 still scans the table',
        sql: `ALTER TABLE ${t.sql} ALTER COLUMN ${quoteIdent(f.column)} SET NOT NULL`,
        mode: 'own-transaction',
      });
    } else {
      steps.push(...notNullViaCheck({ target, table: t, column: f.column, firstMode: 'own-transaction' }));
    }
  }
  for (const f of flagged) {
    const c = f.primary ?? f.unique;
    if (!c) continue;
    const name = c.name ?? (f.primary ? `${q.name}_pkey` : helperName(q.name, f.column, 'key'));
    const idx = quoteIdent(name);
    steps.push({
      comment: 'outside any transaction block: build the unique index without blocking writes',
      sql: `CREATE UNIQUE INDEX CONCURRENTLY ${idx} ON ${t.sql} (${quoteIdent(f.column)})`,
      mode: 'outside-transaction',
    });
    if (bdr1) continue; // BDR 1 rejects ADD CONSTRAINT … USING INDEX (spec §7.4): the unique index enforces it
    steps.push({
      comment: `own transaction: turn the index into the ${f.primary ? 'primary key' : 'unique constraint'}`,
      sql: `ALTER TABLE ${t.sql} ADD CONSTRAINT ${idx} ${f.primary ? 'PRIMARY KEY' : 'UNIQUE'} USING INDEX ${idx}`,
      mode: 'own-transaction',
    });
  }

  const notes: string[] = [];
  const constant = !bdr1 ? constantAlternative(node, flagged) : undefined;
  if (constant) {
    notes.push(
      '-- The value is a constant: written as a literal of the column\'s type it is converted once, when the statement is parsed, and is immutable.',
      `-- Simplest: keep one statement${constant.utc ? ' (the literal now carries a UTC offset: a timestamptz literal without one is read in each node\'s TimeZone)' : ''}:`,
      `${constant.sql};`,
      '-- Or, if the value really must be computed:',
    );
  }
  if (flagged.some((f) => f.analysis?.causes.some((c) => c.kind === 'clock-literal'))) {
    notes.push(
      "-- Note: a DEFAULT of 'now' / 'today' (a string literal) is frozen when the statement is parsed; if new rows should get the time of their insert,",
      '-- write now() / CURRENT_TIMESTAMP / CURRENT_DATE instead. Either way, fill the existing rows once, from one node:',
    );
  }
  notes.push('-- Instead of filling every existing row in one ALTER TABLE: add the column empty, give it the default for new rows, then backfill in batches.');
  if (bdr1) notes.push('-- BDR 1 rejects any ADD COLUMN … DEFAULT on a permanent table; this is its documented workaround (spec §7.4).');
  if (flagged.some((f) => f.primary) && bdr1) notes.push('-- BDR 1 rejects ADD CONSTRAINT … USING INDEX: the unique index enforces uniqueness.');
  if (flagged.some((f) => f.kind === 'identity')) {
    notes.push(
      '-- An identity column cannot be added to a table that has rows without filling them under lock: the sequence default below behaves like',
      '-- GENERATED BY DEFAULT AS IDENTITY. To make it an identity column later, DROP DEFAULT and ADD GENERATED ... AS IDENTITY (START WITH a value above max) in one transaction.',
    );
  }
  return {
    text: `${notes.join('\n')}\n${stepsText(steps)}`,
    steps,
    fixable: !flagged.some((f) => f.kind === 'identity'),
  };
}

/**
 * When every flagged default is a constant made non-immutable only by a cast (`timestamp '2100-01-01'`
 * into a timestamptz column, `0` into money), the same statement with plain literals of the column's type.
 */
function constantAlternative(node: AstValue, flagged: Flagged[]): { sql: string; utc: boolean } | undefined {
  if (flagged.some((f) => f.kind !== 'default' || !f.analysis || f.analysis.causes.length === 0 || f.analysis.causes.some((c) => c.kind !== 'cast' || !c.constant))) {
    return undefined;
  }
  const copy = clone(node);
  let utc = false;
  for (const f of flagged) {
    const def = fields(fields(copy.AlterTableStmt.cmds[f.index]).def);
    const colType = typeKey(def.typeName);
    let text = literalText(f.expr) ?? constOf(f.expr);
    if (text === undefined) return undefined;
    if (colType === 'timestamptz') {
      const withOffset = withUtcOffset(text);
      if (withOffset === undefined) return undefined;
      if (withOffset !== text) utc = true;
      text = withOffset;
    }
    const literal = { A_Const: { sval: { sval: text } } };
    if (def.raw_default) def.raw_default = literal;
    for (const c of def.constraints ?? []) {
      const cf = fields(c);
      if (cf.contype === 'CONSTR_DEFAULT') cf.raw_expr = literal;
    }
  }
  return { sql: deparse(copy), utc };
}

function constOf(node: AstValue): string | undefined {
  const f = fields(node);
  if (node?.A_Const) return constString(f);
  if (node?.TypeCast || node?.CollateClause) return constOf(f.arg);
  return undefined;
}

/** A date / timestamp literal with an explicit UTC offset (unchanged when it has one, undefined when unreadable). */
function withUtcOffset(text: string): string | undefined {
  const s = text.trim();
  if (/^\d{4}-\d{2}-\d{2}$/.test(s)) return `${s} 00:00:00+00`;
  if (/^\d{4}-\d{2}-\d{2}[ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(s)) return `${s}+00`;
  if (/^\d{4}-\d{2}-\d{2}[ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?\s*([+-]\d{1,2}(:?\d{2})?|Z|UTC)$/i.test(s)) return s;
  return undefined;
}
