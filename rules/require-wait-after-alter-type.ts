/**
 * require-wait-after-alter-type: ALTER TYPE (ADD VALUE, RENAME VALUE, ADD / DROP / ALTER / RENAME
 * ATTRIBUTE, SET (...)) whose result a later statement of the run uses, without
 * `SELECT bdr.wait_slot_confirm_lsn(NULL, NULL)` in between.
 * Spec §2.2 (ALTER TYPE row: "a global DML lock isn't applied to all tables that use that data
 * type"), §5.6 [P5-WA]: "ensure that the statement has successfully executed on all nodes before
 * using the new type": `ALTER TYPE contact_method ADD VALUE 'email'; SELECT
 * bdr.wait_slot_confirm_lsn(NULL, NULL);`. §4: bdr.wait_slot_confirm_lsn (BDR 1.0.3+, 3.7–6).
 *
 * The finding is reported on the first later statement that uses the altered type (a new enum
 * value as a string literal, a cast to the type, a column / attribute / function of the type),
 * naming the ALTER TYPE's line; one finding per ALTER TYPE. Its fix inserts the wait at the start
 * of the using statement's transaction, which runs after the ALTER TYPE has committed; when both
 * are in one transaction there is no mechanical fix (the transaction must be split).
 */
import { AstValue, QualifiedName, fields, listName, names, nodeType, walk } from '../src/ast';
import { shown } from '../src/describe';
import type { RunModel, Stmt, Transaction } from '../src/model';
import type { Report, Rule, StatementContext } from '../src/rule';
import { commandTag } from '../src/stmt-tag';
import { plpgsqlQueriesOfNode } from '../src/temp-objects';
import { productName } from '../src/targets';

const WAIT = 'SELECT bdr.wait_slot_confirm_lsn(NULL, NULL)';

interface Pending {
  stmt: Stmt;
  /** The type as written in the ALTER TYPE, and its schema as resolved (when known). */
  type: QualifiedName;
  schema?: string;
  what: string;
  /** ADD VALUE / RENAME VALUE: the value later statements may use. */
  value?: string;
  addsValue: boolean;
  /** The type was created in the ALTER's transaction (PostgreSQL then allows the new value at once). */
  createdInTx: boolean;
  /** A wait that ran inside the ALTER's own transaction, before it committed. */
  waitedTooEarly?: Stmt;
  reported: boolean;
}

interface RunState {
  pending: Pending[];
  /** The pending ALTERs by the words a use of them must contain (rebuilt when `pending` changes). */
  index?: MentionIndex;
  /** Findings waiting for their transaction's end, reported on the top-level statement. */
  queued: Map<Transaction, Array<{ stmt: Stmt; report: Report }>>;
}

const runs = new WeakMap<RunModel, RunState>();

export const rule: Rule = {
  meta: {
    id: 'require-wait-after-alter-type',
    description: 'ALTER TYPE whose result is used later in the run without SELECT bdr.wait_slot_confirm_lsn(NULL, NULL) in between',
    severity: (target) => (target.family === 'bdr1' ? 'off' : 'warning'),
    fixable: true,
    spec: ['§2.2', '§4', '§5.6'],
  },
  statement(ctx) {
    const { stmt } = ctx;
    if (!stmt.node || !stmt.executed || stmt.tx.kind === 'remote') return;
    let state = runs.get(ctx.model);
    if (!state) {
      state = { pending: [], queued: new Map() };
      runs.set(ctx.model, state);
    }
    if (isWait(stmt.node)) {
      for (const p of state.pending) {
        if (p.stmt.tx === stmt.tx) p.waitedTooEarly = stmt;
        else p.reported = true; // committed before the wait: every node has it now
      }
      state.pending = state.pending.filter((p) => !p.reported);
      state.index = undefined;
      return;
    }
    const alter = alterOf(ctx);
    if (alter) {
      state.pending.push(alter);
      state.index = undefined;
      return;
    }
    if (state.pending.length === 0 || IGNORED.has(stmt.type)) return;
    // A use names the type or the value in the statement's text: the walk (and the PL/pgSQL parse
    // of a function body) is only for the ALTERs whose names the text has at all.
    const named = mentioned(stmt, (state.index ??= indexOf(state.pending)));
    if (named.size === 0) return;
    const open = state.pending.filter((p) => named.has(p) && !p.reported && p.stmt !== stmt);
    const used = usedBy(ctx, open);
    if (used.length === 0) return;
    for (const p of used) p.reported = true;
    // A reported ALTER is not reported again: it leaves the list.
    state.pending = state.pending.filter((p) => !p.reported);
    state.index = undefined;
    const top = topOf(stmt);
    const list = state.queued.get(top.tx) ?? [];
    list.push({ stmt: top, report: reportFor(ctx, used) });
    state.queued.set(top.tx, list);
  },
  transaction(ctx) {
    const state = runs.get(ctx.model);
    const list = state?.queued.get(ctx.tx);
    if (!state || !list) return;
    state.queued.delete(ctx.tx);
    for (const q of list) ctx.report(q.stmt, q.report);
  },
};

/** Statements that name a type without using its values or shape. */
const IGNORED = new Set([
  'DropStmt', 'CommentStmt', 'GrantStmt', 'AlterOwnerStmt', 'AlterObjectSchemaStmt', 'RenameStmt', 'AlterEnumStmt',
  'AlterTypeStmt', 'VariableSetStmt', 'TransactionStmt', 'SecLabelStmt', 'DoStmt',
]);

function topOf(s: Stmt): Stmt {
  let t = s;
  while (t.parent) t = t.parent;
  return t;
}

/** SELECT / PERFORM bdr.wait_slot_confirm_lsn(NULL, ...): waits until every node confirmed the current LSN. */
function isWait(node: AstValue): boolean {
  if (nodeType(node) !== 'SelectStmt' && nodeType(node) !== 'CallStmt') return false;
  let found = false;
  walk(node, (t, v) => {
    if (t !== 'FuncCall') return undefined;
    const fn = names(v.funcname);
    if (fn[fn.length - 1] === 'wait_slot_confirm_lsn' && (fn.length === 1 || fn[0] === 'bdr')) {
      // A slot name waits for that one peer only; NULL (or no argument) waits for all of them.
      const slot = v.args?.[0];
      if (slot === undefined || slot?.A_Const?.isnull) found = true;
      return false;
    }
    return undefined;
  });
  return found;
}

/** The ALTER TYPE a statement is, if it is one that is replicated. */
function alterOf(ctx: StatementContext): Pending | undefined {
  const { stmt, facts } = ctx;
  const viaReplicate = stmt.via === 'replicate_ddl_command' || stmt.via === 'bdr_replicate_ddl_command';
  if (!facts.replicated && !viaReplicate) return undefined;
  const f = stmt.f;
  let type: QualifiedName | undefined;
  let what: string;
  let value: string | undefined;
  let addsValue = false;
  switch (stmt.type) {
    case 'AlterEnumStmt': {
      type = listName(f.typeName);
      if (f.oldVal !== undefined && f.oldVal !== null && f.oldVal !== '') {
        what = `RENAME VALUE '${f.oldVal}' TO '${f.newVal}'`;
      } else {
        const known = ctx.catalog.type(type);
        if (f.skipIfNewValExists && known?.values.includes(f.newVal)) return undefined; // IF NOT EXISTS on an existing value
        what = `ADD VALUE '${f.newVal}'`;
        addsValue = true;
      }
      value = f.newVal;
      break;
    }
    case 'AlterTableStmt':
      if (f.objtype !== 'OBJECT_TYPE') return undefined;
      type = { schema: f.relation?.schemaname || undefined, name: f.relation?.relname ?? '' };
      what = (f.cmds ?? []).map((c: AstValue) => attributeVerb(fields(c).subtype)).join(', ');
      break;
    case 'RenameStmt':
      if (f.renameType !== 'OBJECT_ATTRIBUTE') return undefined;
      type = { schema: f.relation?.schemaname || undefined, name: f.relation?.relname ?? '' };
      what = `RENAME ATTRIBUTE ${f.subname} TO ${f.newname}`;
      break;
    case 'AlterTypeStmt':
      type = listName(f.typeName);
      what = 'SET (...)';
      break;
    default:
      return undefined;
  }
  if (!type || !type.name) return undefined;
  if (type.schema && (type.schema === 'pg_temp' || type.schema.startsWith('pg_temp_'))) return undefined;
  const known = ctx.catalog.type(type);
  const createdInTx = !!known && known.origin.txId === stmt.tx.id;
  return { stmt, type, schema: known?.schema, what, value, addsValue, createdInTx, reported: false };
}

function attributeVerb(subtype: string): string {
  switch (subtype) {
    case 'AT_AddColumn':
      return 'ADD ATTRIBUTE';
    case 'AT_DropColumn':
      return 'DROP ATTRIBUTE';
    case 'AT_AlterColumnType':
      return 'ALTER ATTRIBUTE ... TYPE';
    default:
      return 'ALTER';
  }
}

/**
 * The pending ALTER TYPEs a statement uses: a new value, a cast to the type, a column or argument
 * of it. One walk of the statement collects the string constants and type names for all of them.
 */
function usedBy(ctx: StatementContext, open: Pending[]): Pending[] {
  const { stmt } = ctx;
  // Another ALTER of the same type is not a use.
  const altered = stmt.type === 'AlterTableStmt' && stmt.f.objtype === 'OBJECT_TYPE' ? { schema: stmt.f.relation?.schemaname || undefined, name: stmt.f.relation?.relname } : undefined;
  const candidates = altered ? open.filter((p) => !sameType(ctx, p, altered)) : open;
  if (candidates.length === 0) return [];
  const roots: AstValue[] = [stmt.node];
  if (stmt.type === 'CreateFunctionStmt') {
    for (const child of stmt.file.statements) if (child.parent === stmt && child.via === 'function' && child.node) roots.push(child.node);
    const lang = (stmt.f.options ?? []).map(fields).find((d: AstValue) => d.defname === 'language');
    if (lang && String(fields(lang.arg).sval ?? '').toLowerCase() === 'plpgsql') {
      roots.push(...plpgsqlQueriesOfNode(stmt.node));
    }
  }
  const values = new Set<unknown>();
  const typeNames: QualifiedName[] = [];
  const visit = (v: AstValue): void => {
    if (!v || typeof v !== 'object') return;
    if (Array.isArray(v)) {
      for (const x of v) visit(x);
      return;
    }
    if (v.A_Const?.sval) values.add(v.A_Const.sval.sval);
    if (Array.isArray(v.names) && 'typemod' in v) typeNames.push(listName(v.names));
    for (const k of Object.keys(v)) {
      const x = v[k];
      if (x && typeof x === 'object') visit(x);
    }
  };
  roots.forEach(visit);
  return candidates.filter((p) => (p.value !== undefined && values.has(p.value)) || typeNames.some((q) => sameType(ctx, p, q)));
}

const WORD = /^[\p{L}\p{N}_$]+$/u;
const WORDS = /[\p{L}\p{N}_$]+/gu;

interface MentionIndex {
  /** Pending ALTERs by a lower-case word (type name or value) that a use contains. */
  words: Map<string, Pending[]>;
  /** Pending ALTERs with a name or value that is not one word: their text is searched for. */
  others: Array<{ p: Pending; keys: string[] }>;
}

function indexOf(pending: Pending[]): MentionIndex {
  const index: MentionIndex = { words: new Map(), others: [] };
  for (const p of pending) {
    if (p.reported) continue;
    const keys = [p.type.name, ...(p.value !== undefined ? [p.value] : [])].map((k) => k.toLowerCase());
    const other: string[] = [];
    for (const k of keys) {
      if (!WORD.test(k)) other.push(k);
      else {
        const list = index.words.get(k);
        if (list) list.push(p);
        else index.words.set(k, [p]);
      }
    }
    if (other.length > 0) index.others.push({ p, keys: other });
  }
  return index;
}

/**
 * The pending ALTERs whose type name or value occurs in the statement's text (any case): one pass
 * over the text's words, whatever the number of pending ALTERs.
 */
function mentioned(stmt: Stmt, index: MentionIndex): Set<Pending> {
  const out = new Set<Pending>();
  const text = stmt.file.source.text.slice(stmt.start, stmt.end).toLowerCase();
  for (const { p, keys } of index.others) if (keys.some((k) => k === '' || text.includes(k))) out.add(p);
  if (index.words.size > 0) for (const w of text.match(WORDS) ?? []) for (const p of index.words.get(w) ?? []) out.add(p);
  return out;
}

function sameType(ctx: StatementContext, p: Pending, q: QualifiedName): boolean {
  if (!q.name || q.name !== p.type.name) return false;
  if (q.schema === 'pg_catalog') return false;
  const known = ctx.catalog.type(q);
  if (known && p.schema) return known.schema === p.schema;
  if (q.schema && p.type.schema) return q.schema === p.type.schema;
  return true;
}

function text(s: Stmt): string {
  const t = s.file.source.text.slice(s.start, s.end).trim();
  return t.endsWith(';') ? t : `${t};`;
}

function reportFor(ctx: StatementContext, used: Pending[]): Report {
  const { stmt, target } = ctx;
  const line = (s: Stmt): string => `${s.file.source.position(s.start).line}${s.file === stmt.file ? '' : ` of ${s.file.path}`}`;
  const alters = used.map((p) => `ALTER TYPE ${shown(p.type)} ${p.what} at line ${line(p.stmt)}`).join(' and ');
  const sameTx = used.filter((p) => topOf(p.stmt).tx === stmt.tx);
  const tag = commandTag(stmt.node);
  let message =
    `${tag} uses the type changed by ${alters} without SELECT bdr.wait_slot_confirm_lsn(NULL, NULL) in between: ` +
    `${productName(target)} replicates ALTER TYPE without a global DML lock on the tables that use the type, so it may not have run on every node yet (§2.2, §5.6)`;
  const unsafe = sameTx.filter((p) => p.addsValue && !p.createdInTx);
  if (unsafe.length > 0) {
    message +=
      `; in the same transaction PostgreSQL (12+) also refuses the new value before the ALTER TYPE commits: ` +
      `ERROR: unsafe use of new value '${unsafe[0].value}' of enum type ${unsafe[0].type.name} (HINT: New enum values must be committed before they can be used.)`;
  }
  const early = used.find((p) => p.waitedTooEarly);
  if (early?.waitedTooEarly) {
    message += `; the wait at line ${line(early.waitedTooEarly)} runs inside the ALTER TYPE's own transaction, before it commits, so it does not wait for it`;
  }

  const lines: string[] = [];
  if (sameTx.length > 0) {
    lines.push(
      '-- Commit the ALTER TYPE first, wait until every node has applied it, then use it (split the transaction; with a runner that wraps the file, use separate migration files):',
      '-- ... (the transaction up to the ALTER TYPE)',
      ...sameTx.map((p) => text(p.stmt)),
      'COMMIT;',
      `-- outside the ALTER's transaction, once it has committed:`,
      `${WAIT};`,
      'BEGIN;',
      text(topOf(stmt)),
    );
    return { message, suggestion: lines.join('\n'), span: { start: stmt.start, end: stmt.end } };
  }
  lines.push(
    `-- Right after the ALTER TYPE has committed (its own transaction), wait until every node has applied it:`,
    ...used.map((p) => text(p.stmt)),
    `${WAIT};`,
    '-- ... then use the type:',
    text(topOf(stmt)),
  );
  return {
    message,
    suggestion: lines.join('\n'),
    span: { start: stmt.start, end: stmt.end },
    fix: { steps: [{ sql: WAIT, mode: 'transaction-start' }], keepOriginal: true },
  };
}
