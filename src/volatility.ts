/**
 * Volatility of expressions (IMMUTABLE / STABLE / VOLATILE), decided from PostgreSQL's own catalog:
 * data/builtin-functions.json is generated from a real server's pg_proc and pg_cast
 * (scripts/gen-builtin-volatility.sh), and functions created by the migrations come from the
 * replayed catalog. It answers the question PGD asks of `ADD COLUMN … DEFAULT expr`: would
 * `contain_mutable_functions()` find anything in the expression PostgreSQL builds from it?
 *
 * What counts, as in PostgreSQL:
 * - a function call: the function's provolatile (overloads resolved by argument types where the
 *   catalog has overloads of different volatility);
 * - SQL value functions (CURRENT_TIMESTAMP, CURRENT_DATE, LOCALTIMESTAMP, CURRENT_USER, ...): stable;
 * - a cast: the cast function's volatility. A string literal cast to a type (`'2024-01-01'::timestamptz`)
 *   is converted when the statement is parsed and is a constant; a typed value cast to another type
 *   (`timestamp '2024-01-01'` into a timestamptz column) runs the cast function (timestamp → timestamptz
 *   is stable: it depends on the session time zone);
 * - the implicit conversion of the expression to the column's type, the same way;
 * - operators: built-in operators are immutable except the few that are not (timestamptz ± interval,
 *   timestamptz compared with date/timestamp, `||` with a non-text operand); operators from other schemas
 *   cannot be resolved;
 * - a function that is neither built in nor created by the migrations cannot be proven immutable.
 */
import * as fs from 'fs';
import * as path from 'path';
import { AstValue, QualifiedName, fields, listName, nodeType, typeNameString } from './ast';
import type { Catalog } from './catalog';
import { deparse } from './sqlgen';

export type Vol = 'i' | 's' | 'v';

interface BuiltinData {
  source: string;
  /** proname -> least immutable volatility over its overloads. */
  functions: Record<string, Vol>;
  /** proname -> [[comma-separated argument types, volatility]] for names whose overloads differ. */
  overloads: Record<string, Array<[string, Vol]>>;
  /** "source->target" -> volatility of the cast. */
  casts: Record<string, Vol>;
  /** "source->target" casts that are binary coercible (no function, no rewrite). */
  binaryCoercible: string[];
}

let data: BuiltinData | null = null;
let binary: Set<string> | null = null;

/** The built-in catalog data, loaded once on first use. */
export function builtins(): BuiltinData {
  if (data) return data;
  const candidates = [
    path.join(__dirname, '..', 'data', 'builtin-functions.json'),
    path.join(__dirname, '..', '..', 'data', 'builtin-functions.json'),
  ];
  const file = candidates.find((f) => fs.existsSync(f));
  if (!file) throw new Error('data/builtin-functions.json not found');
  data = JSON.parse(fs.readFileSync(file, 'utf8')) as BuiltinData;
  binary = new Set(data.binaryCoercible);
  return data;
}

/** True when PostgreSQL converts `source` to `target` without a function (pg_cast castmethod 'b'). */
export function isBinaryCoercible(source: string, target: string): boolean {
  builtins();
  return binary!.has(`${source}->${target}`);
}

/**
 * Functions of common extensions and of PostgreSQL releases newer than the catalog data (PostgreSQL 15),
 * with their declared volatility. They are used only when the migrations did not create a function of
 * that name themselves.
 */
const EXTRA_FUNCTIONS: Record<string, { vol: Vol; from: string }> = {
  // uuid-ossp
  uuid_generate_v1: { vol: 'v', from: 'extension uuid-ossp' },
  uuid_generate_v1mc: { vol: 'v', from: 'extension uuid-ossp' },
  uuid_generate_v3: { vol: 'i', from: 'extension uuid-ossp' },
  uuid_generate_v4: { vol: 'v', from: 'extension uuid-ossp' },
  uuid_generate_v5: { vol: 'i', from: 'extension uuid-ossp' },
  uuid_nil: { vol: 'i', from: 'extension uuid-ossp' },
  uuid_ns_dns: { vol: 'i', from: 'extension uuid-ossp' },
  uuid_ns_url: { vol: 'i', from: 'extension uuid-ossp' },
  uuid_ns_oid: { vol: 'i', from: 'extension uuid-ossp' },
  uuid_ns_x500: { vol: 'i', from: 'extension uuid-ossp' },
  // pgcrypto (gen_random_uuid is also built in from PostgreSQL 13; pgcrypto's, e.g. public.gen_random_uuid(), is volatile too)
  gen_random_uuid: { vol: 'v', from: 'extension pgcrypto' },
  gen_random_bytes: { vol: 'v', from: 'extension pgcrypto' },
  gen_salt: { vol: 'v', from: 'extension pgcrypto' },
  crypt: { vol: 'i', from: 'extension pgcrypto' },
  digest: { vol: 'i', from: 'extension pgcrypto' },
  hmac: { vol: 'i', from: 'extension pgcrypto' },
  // PostgreSQL 16-18 built-ins
  uuidv4: { vol: 'v', from: 'PostgreSQL 18' },
  uuidv7: { vol: 'v', from: 'PostgreSQL 18' },
  random_normal: { vol: 'v', from: 'PostgreSQL 16' },
  system_user: { vol: 's', from: 'PostgreSQL 16' },
};

/** SQL value functions (SQLValueFunction nodes): all stable; their result types. */
const SQL_VALUE_FUNCTIONS: Record<string, { sql: string; type: string }> = {
  SVFOP_CURRENT_DATE: { sql: 'CURRENT_DATE', type: 'date' },
  SVFOP_CURRENT_TIME: { sql: 'CURRENT_TIME', type: 'timetz' },
  SVFOP_CURRENT_TIME_N: { sql: 'CURRENT_TIME', type: 'timetz' },
  SVFOP_CURRENT_TIMESTAMP: { sql: 'CURRENT_TIMESTAMP', type: 'timestamptz' },
  SVFOP_CURRENT_TIMESTAMP_N: { sql: 'CURRENT_TIMESTAMP', type: 'timestamptz' },
  SVFOP_LOCALTIME: { sql: 'LOCALTIME', type: 'time' },
  SVFOP_LOCALTIME_N: { sql: 'LOCALTIME', type: 'time' },
  SVFOP_LOCALTIMESTAMP: { sql: 'LOCALTIMESTAMP', type: 'timestamp' },
  SVFOP_LOCALTIMESTAMP_N: { sql: 'LOCALTIMESTAMP', type: 'timestamp' },
  SVFOP_CURRENT_ROLE: { sql: 'CURRENT_ROLE', type: 'name' },
  SVFOP_CURRENT_USER: { sql: 'CURRENT_USER', type: 'name' },
  SVFOP_USER: { sql: 'USER', type: 'name' },
  SVFOP_SESSION_USER: { sql: 'SESSION_USER', type: 'name' },
  SVFOP_CURRENT_CATALOG: { sql: 'CURRENT_CATALOG', type: 'name' },
  SVFOP_CURRENT_SCHEMA: { sql: 'CURRENT_SCHEMA', type: 'name' },
};

/** Result types of common functions (for overload resolution and casts further up). */
const RESULT_TYPES: Record<string, string> = {
  now: 'timestamptz',
  transaction_timestamp: 'timestamptz',
  statement_timestamp: 'timestamptz',
  clock_timestamp: 'timestamptz',
  to_timestamp: 'timestamptz',
  make_timestamptz: 'timestamptz',
  make_timestamp: 'timestamp',
  make_date: 'date',
  make_interval: 'interval',
  timeofday: 'text',
  gen_random_uuid: 'uuid',
  uuid_generate_v1: 'uuid',
  uuid_generate_v1mc: 'uuid',
  uuid_generate_v4: 'uuid',
  uuidv4: 'uuid',
  uuidv7: 'uuid',
  random: 'float8',
  nextval: 'int8',
  currval: 'int8',
  lower: 'text',
  upper: 'text',
  md5: 'text',
  concat: 'text',
  concat_ws: 'text',
  format: 'text',
  to_char: 'text',
  current_setting: 'text',
  length: 'int4',
  char_length: 'int4',
  txid_current: 'int8',
  jsonb_build_object: 'jsonb',
  jsonb_build_array: 'jsonb',
  json_build_object: 'json',
  json_build_array: 'json',
};

const TEXT_TYPES = new Set(['text', 'varchar', 'bpchar', 'name']);

/** Why a cast between two types is not immutable, for messages. */
function castReason(source: string, target: string): string {
  const both = `${source} ${target}`;
  if (/timestamptz|timetz/.test(both)) return 'it depends on the session TimeZone';
  if (/money/.test(both)) return 'it depends on lc_monetary';
  if (/xml/.test(both)) return 'it depends on the xmloption setting';
  if (/^reg|\sreg/.test(both)) return 'it looks names up in the catalog';
  return 'the cast is not immutable';
}

/** A type as the analysis sees it: PostgreSQL's internal name, `[]` appended for arrays. */
export function typeKey(typeName: AstValue): string | undefined {
  if (!typeName) return undefined;
  const name = typeNameString(typeName);
  if (!name) return undefined;
  const base = SERIAL_BASE[name] ?? name;
  const isArray = Array.isArray(typeName.arrayBounds) && typeName.arrayBounds.length > 0;
  return isArray ? `${base}[]` : base;
}

const SERIAL_BASE: Record<string, string> = {
  serial: 'int4',
  serial4: 'int4',
  bigserial: 'int8',
  serial8: 'int8',
  smallserial: 'int2',
  serial2: 'int2',
};

/** One part of an expression that makes it not provably immutable. */
export interface Cause {
  /** The SQL of the part (`now()`, `CURRENT_TIMESTAMP`, `timestamp '2100-01-01'`). */
  sql: string;
  /** 's' stable, 'v' volatile, 'unknown' not resolvable. */
  volatility: Vol | 'unknown';
  /** Why, in words ("is stable", "is not a built-in function ..."). */
  why: string;
  /**
   * What it is: a function call, a cast (or the conversion to the column's type), an SQL value function, an operator, a subquery,
   * or a special date/time literal ('now', 'today', ...) that PostgreSQL reads as the clock when it parses the statement.
   */
  kind: 'function' | 'cast' | 'sqlvalue' | 'operator' | 'subquery' | 'clock-literal';
  /** For casts: the value cast is a constant (a literal). */
  constant?: boolean;
}

export interface ExprVolatility {
  /** The least immutable volatility found among resolved parts ('i' when everything resolved is immutable). */
  volatility: Vol;
  /** True when every part resolved and is immutable. */
  immutable: boolean;
  causes: Cause[];
  /** The expression's type, when it could be inferred. */
  type?: string;
}

export interface AnalyzeOptions {
  /** Functions created by the migrations. */
  catalog?: Catalog;
  /** The type the expression is converted to (a column's type), as `typeKey` gives it. */
  targetType?: string;
}

interface Result {
  vol: Vol;
  type?: string;
}

const ORDER: Record<Vol, number> = { i: 0, s: 1, v: 2 };

function worst(a: Vol, b: Vol): Vol {
  return ORDER[a] >= ORDER[b] ? a : b;
}

function volWord(v: Vol): string {
  return v === 'v' ? 'volatile' : v === 's' ? 'stable' : 'immutable';
}

/** Analyses an expression of the raw parse tree. */
export function analyzeExpression(expr: AstValue, opts: AnalyzeOptions = {}): ExprVolatility {
  builtins();
  const a = new Analyzer(opts.catalog);
  const r = a.visit(expr);
  let vol = r.vol;
  const target = opts.targetType;
  const clock = target && r.type === 'unknown' ? clockLiteral(expr, target) : undefined;
  if (clock) {
    vol = worst(vol, 's');
    a.causes.push(clock);
  }
  if (target && r.type && r.type !== 'unknown' && r.type !== target) {
    const cv = castVolatility(r.type, target);
    if (cv !== undefined && cv !== 'i') {
      vol = worst(vol, cv);
      a.causes.push({
        sql: safeDeparse(expr),
        volatility: cv,
        why: `is of type ${r.type}, and converting it to the column's type ${target} is ${volWord(cv)} (${castReason(r.type, target)})`,
        kind: 'cast',
        constant: isConstant(expr),
      });
    }
  }
  const unknown = a.causes.some((c) => c.volatility === 'unknown');
  return { volatility: vol, immutable: vol === 'i' && !unknown, causes: a.causes, type: r.type };
}

function safeDeparse(node: AstValue): string {
  try {
    return deparse(node);
  } catch {
    return '(expression)';
  }
}

/**
 * Volatility of the cast `source` → `target` (internal type names), or undefined when the
 * catalog data has no such cast. A string literal ('unknown') converts at parse time: immutable.
 */
export function castVolatility(source: string, target: string): Vol | undefined {
  const d = builtins();
  if (source === 'unknown' || source === target) return 'i';
  if (source.endsWith('[]') && target.endsWith('[]')) return castVolatility(source.slice(0, -2), target.slice(0, -2));
  const k = `${source}->${target}`;
  if (k in d.casts) return d.casts[k];
  if (isBinaryCoercible(source, target)) return 'i';
  // Automatic I/O conversion casts: to a string type through the source's output function, from a
  // string type through the target's input function.
  if (TEXT_TYPES.has(target) && !source.endsWith('[]')) return ioFunction(source, 'out');
  if (TEXT_TYPES.has(source) && !target.endsWith('[]')) return ioFunction(target, 'in');
  return undefined;
}

function ioFunction(type: string, dir: 'in' | 'out'): Vol | undefined {
  const f = builtins().functions;
  return f[`${type}${dir}`] ?? f[`${type}_${dir}`] ?? (dir === 'in' ? f['enum_in'] : f['enum_out']);
}

/** The parts of a node to analyse first, and how their results make the node's. */
interface Plan {
  children: AstValue[];
  done: (results: Result[]) => Result;
}

const isPlan = (x: Result | Plan): x is Plan => 'children' in x;

function worstOf(results: Result[]): Result {
  let vol: Vol = 'i';
  for (const r of results) vol = worst(vol, r.vol);
  return { vol };
}

/**
 * Walks an expression bottom-up. Each node says which children it needs (`step`) and how their
 * results combine; `visit` runs that with an explicit stack, so an expression thousands of
 * levels deep does not overflow the call stack. Children are analysed in order, before their
 * parent, as a recursive walk would: the causes come out in the same order.
 */
class Analyzer {
  readonly causes: Cause[] = [];
  constructor(private readonly catalog?: Catalog) {}

  visit(root: AstValue): Result {
    const frames: Array<{ plan: Plan; results: Result[] }> = [];
    let cur: Result | Plan = this.step(root);
    for (;;) {
      if (isPlan(cur)) {
        frames.push({ plan: cur, results: [] });
      } else {
        if (frames.length === 0) return cur;
        frames[frames.length - 1].results.push(cur);
      }
      const top = frames[frames.length - 1];
      if (top.results.length < top.plan.children.length) {
        cur = this.step(top.plan.children[top.results.length]);
      } else {
        frames.pop();
        cur = top.plan.done(top.results);
      }
    }
  }

  private step(node: AstValue): Result | Plan {
    if (node == null || typeof node !== 'object') return { vol: 'i' };
    if (Array.isArray(node)) return { children: node, done: worstOf };
    const type = nodeType(node);
    const f = fields(node);
    switch (type) {
      case 'A_Const':
        return { vol: 'i', type: constType(f) };
      case 'TypeCast':
        return { children: [f.arg], done: ([inner]) => this.typeCast(node, f, inner) };
      case 'FuncCall':
        return { children: f.args ?? [], done: (args) => this.funcCall(f, args) };
      case 'SQLValueFunction': {
        const info = SQL_VALUE_FUNCTIONS[f.op as string];
        const sql = info?.sql ?? safeDeparse(node);
        this.causes.push({ sql, volatility: 's', why: `is stable (${sqlValueWhy(sql)})`, kind: 'sqlvalue' });
        return { vol: 's', type: info?.type };
      }
      case 'A_Expr':
        return { children: [f.lexpr, f.rexpr], done: ([l, r]) => this.aExpr(node, f, l, r) };
      case 'BoolExpr':
        return { children: [f.args], done: ([r]) => ({ vol: r.vol, type: 'bool' }) };
      case 'NullTest':
      case 'BooleanTest':
        return { children: [f.arg], done: ([r]) => ({ vol: r.vol, type: 'bool' }) };
      case 'CaseExpr': {
        const whens: AstValue[] = f.args ?? [];
        const children: AstValue[] = [f.arg];
        for (const w of whens) {
          const wf = fields(w);
          children.push(wf.expr, wf.result);
        }
        children.push(f.defresult);
        return {
          children,
          done: (rs) => {
            let vol = rs[0].vol;
            let t: string | undefined;
            for (let i = 0; i < whens.length; i++) {
              const r = rs[2 + 2 * i];
              vol = worst(worst(vol, rs[1 + 2 * i].vol), r.vol);
              t = t ?? knownType(r.type);
            }
            const d = rs[rs.length - 1];
            return { vol: worst(vol, d.vol), type: t ?? knownType(d.type) };
          },
        };
      }
      case 'CoalesceExpr':
      case 'MinMaxExpr':
        return { children: f.args ?? [], done: (rs) => ({ vol: worstOf(rs).vol, type: firstKnown(rs) }) };
      case 'A_ArrayExpr':
        return {
          children: f.elements ?? [],
          done: (rs) => {
            const t = firstKnown(rs);
            return { vol: worstOf(rs).vol, type: t ? `${t}[]` : undefined };
          },
        };
      case 'CollateClause':
        return { children: [f.arg], done: ([r]) => r };
      case 'ColumnRef':
      case 'ParamRef':
        return { vol: 'i' };
      case 'SubLink':
        this.causes.push({ sql: safeDeparse(node), volatility: 'unknown', why: 'is a subquery (PostgreSQL does not accept one in a DEFAULT)', kind: 'subquery' });
        return { vol: 'i' };
      default:
        // Other expression nodes (RowExpr, A_Indirection, JSON constructors, XML, ...): their children.
        return { children: Object.values(f ?? {}).filter((v) => v && typeof v === 'object'), done: worstOf };
    }
  }

  private typeCast(node: AstValue, f: AstValue, inner: Result): Result {
    const target = typeKey(f.typeName);
    if (!target) return { vol: inner.vol };
    const clock = inner.type === 'unknown' ? clockLiteral(node, target) : undefined;
    if (clock) {
      this.causes.push(clock);
      return { vol: worst(inner.vol, 's'), type: target };
    }
    if (!inner.type) return { vol: inner.vol, type: target };
    const cv = castVolatility(inner.type, target);
    if (cv !== undefined && cv !== 'i') {
      this.causes.push({
        sql: safeDeparse(node),
        volatility: cv,
        why: `casts ${inner.type} to ${target}, which is ${volWord(cv)} (${castReason(inner.type, target)})`,
        kind: 'cast',
        constant: isConstant(f.arg),
      });
      return { vol: worst(inner.vol, cv), type: target };
    }
    return { vol: inner.vol, type: target };
  }

  private funcCall(f: AstValue, argResults: Result[]): Result {
    const q = listName(f.funcname);
    const name = q.name;
    let vol: Vol = 'i';
    for (const r of argResults) vol = worst(vol, r.vol);
    const sql = `${q.schema && q.schema !== 'pg_catalog' ? `${q.schema}.` : ''}${name}()`;
    const d = builtins();
    const builtin = !q.schema || q.schema === 'pg_catalog';
    // A function the migrations created, when it is not a built-in of that name.
    const own = this.catalog && !(builtin && name in d.functions) ? this.catalog.func(q as QualifiedName) : undefined;
    let fv: Vol | undefined;
    let why = '';
    if (own) {
      fv = own.volatility;
      why = `is declared ${volWord(fv).toUpperCase()} where the migrations create it`;
    } else if (builtin && name in d.functions) {
      fv = resolveOverload(name, argResults.map((r: Result) => r.type)) ?? d.functions[name];
      why = `is ${volWord(fv)} (PostgreSQL catalog)`;
    } else if (EXTRA_FUNCTIONS[name] && (builtin || EXTRA_FUNCTIONS[name].from.startsWith('extension'))) {
      fv = EXTRA_FUNCTIONS[name].vol;
      why = `is ${volWord(fv)} (${EXTRA_FUNCTIONS[name].from})`;
    }
    if (fv === undefined) {
      this.causes.push({
        sql,
        volatility: 'unknown',
        why: 'is not a built-in function and was not created by these migrations, so it cannot be proven immutable',
        kind: 'function',
      });
      return { vol, type: RESULT_TYPES[name] };
    }
    if (fv !== 'i') this.causes.push({ sql, volatility: fv, why, kind: 'function' });
    let type = RESULT_TYPES[name];
    if (name === 'date_trunc' && argResults[1]?.type) type = argResults[1].type;
    return { vol: worst(vol, fv), type };
  }

  private aExpr(node: AstValue, f: AstValue, l: Result, r: Result): Result {
    let vol = worst(l.vol, r.vol);
    const kind: string = f.kind;
    if (kind !== 'AEXPR_OP') {
      const type = kind === 'AEXPR_NULLIF' ? knownType(l.type) : 'bool';
      return { vol, type };
    }
    const op = listName(f.name);
    if (op.schema && op.schema !== 'pg_catalog') {
      this.causes.push({ sql: safeDeparse(node), volatility: 'unknown', why: `uses operator ${op.schema}.${op.name}, which is not a built-in operator`, kind: 'operator' });
      return { vol };
    }
    const lt = l.type;
    const rt = r.type;
    const ov = operatorVolatility(op.name, lt, rt);
    if (ov.vol !== 'i') {
      this.causes.push({ sql: safeDeparse(node), volatility: ov.vol, why: ov.why, kind: 'operator' });
      vol = worst(vol, ov.vol);
    }
    return { vol, type: operatorResultType(op.name, lt, rt) };
  }
}

/** Date/time types whose input function reads the special values 'now', 'today', 'tomorrow', 'yesterday'. */
const CLOCK_TYPES = new Set(['date', 'timestamp', 'timestamptz', 'time', 'timetz']);
const CLOCK_WORDS = new Set(['now', 'today', 'tomorrow', 'yesterday']);

/**
 * A string literal read as a date/time type whose value is the clock ('now'::timestamptz, DEFAULT 'today'
 * on a date column). PostgreSQL converts it once, when it parses the statement, and stores a constant: no
 * function is left for a volatility check to see. But DDL is replicated as its text and parsed again on
 * every node (spec §1), each at its own moment, so each node gets its own value.
 */
function clockLiteral(node: AstValue, target: string): Cause | undefined {
  if (!CLOCK_TYPES.has(target)) return undefined;
  const t = nodeType(node);
  const inner = t === 'TypeCast' || t === 'CollateClause' ? fields(node).arg : node;
  if (nodeType(inner) !== 'A_Const') return undefined;
  const text = literalText(inner);
  if (text === undefined || !CLOCK_WORDS.has(text.trim().toLowerCase())) return undefined;
  return {
    sql: safeDeparse(node),
    volatility: 's',
    why:
      `is the special input '${text.trim()}', read as the current ${target === 'date' ? 'date' : 'time'} when the statement is parsed: PostgreSQL stores a constant, ` +
      'but every node parses the replicated statement again at its own moment and gets its own value',
    kind: 'clock-literal',
  };
}

/** A literal, possibly under casts and COLLATE: its value is fixed when the statement is parsed. */
export function isConstant(node: AstValue): boolean {
  return nodeType(underCasts(node)) === 'A_Const';
}

/** The node under any casts and COLLATE clauses (a loop: a chain of casts can be long). */
function underCasts(node: AstValue): AstValue {
  let n = node;
  for (let t = nodeType(n); t === 'TypeCast' || t === 'CollateClause'; t = nodeType(n)) n = fields(n).arg;
  return n;
}

/** The string literal inside casts (`timestamp '2100-01-01'` -> 2100-01-01), if any. */
export function literalText(node: AstValue): string | undefined {
  const n = underCasts(node);
  if (nodeType(n) !== 'A_Const') return undefined;
  const f = fields(n);
  return f.sval ? (f.sval.sval ?? '') : undefined;
}

function sqlValueWhy(sql: string): string {
  if (/TIME|DATE/.test(sql)) return "the current transaction's start time";
  if (/CATALOG|SCHEMA/.test(sql)) return 'it depends on the session';
  return 'the role running the statement';
}

function knownType(t: string | undefined): string | undefined {
  return t && t !== 'unknown' ? t : undefined;
}

/** The first known type among results (CASE branches, COALESCE arguments, array elements). */
function firstKnown(rs: Result[]): string | undefined {
  for (const r of rs) {
    const t = knownType(r.type);
    if (t) return t;
  }
  return undefined;
}

function constType(c: AstValue): string | undefined {
  if (c.isnull) return 'unknown';
  if (c.ival !== undefined) return 'int4';
  if (c.fval !== undefined) {
    const s = String(c.fval.fval ?? '');
    return /^-?\d+$/.test(s) ? 'int8' : 'numeric';
  }
  if (c.sval !== undefined) return 'unknown';
  if (c.boolval !== undefined) return 'bool';
  if (c.bsval !== undefined) return 'bit';
  // `ival: {}` is the integer 0.
  return 'unknown';
}

const COMPARISON = new Set(['=', '<>', '!=', '<', '>', '<=', '>=']);
const DATETIME = new Set(['date', 'timestamp', 'timestamptz', 'time', 'timetz', 'interval']);

/**
 * Volatility of a built-in operator from its operand types. pg_operator is not in the catalog
 * data, so this is the short list of built-in operators whose functions are not immutable
 * (timestamptz_pl_interval, timestamptz_mi_interval, the date/timestamp/timestamptz cross-type
 * comparisons, textanycat/anytextcat); every other built-in operator is immutable.
 */
function operatorVolatility(op: string, l: string | undefined, r: string | undefined): { vol: Vol; why: string } {
  const types = [l, r];
  const has = (t: string): boolean => types.includes(t);
  if ((op === '+' || op === '-') && has('timestamptz') && (has('interval') || has('unknown'))) {
    return { vol: 's', why: 'adds an interval to a timestamptz, which is stable (it depends on the session TimeZone)' };
  }
  if ((op === '+' || op === '-') && has('timetz') && (has('interval') || has('unknown'))) {
    return { vol: 'i', why: '' };
  }
  if (COMPARISON.has(op) && has('timestamptz') && (has('date') || has('timestamp'))) {
    return { vol: 's', why: 'compares timestamptz with date/timestamp, which is stable (it depends on the session TimeZone)' };
  }
  if (op === '||' && l && r) {
    const textish = (t: string): boolean => TEXT_TYPES.has(t) || t === 'unknown';
    const other = textish(l) ? r : textish(r) ? l : undefined;
    if (other && !textish(other) && !other.endsWith('[]') && other !== 'jsonb' && other !== 'bytea' && other !== 'tsvector' && other !== 'varbit' && other !== 'bit') {
      return { vol: 's', why: `concatenates text with ${other}, which is stable (the value is converted with its output function)` };
    }
  }
  return { vol: 'i', why: '' };
}

function operatorResultType(op: string, l: string | undefined, r: string | undefined): string | undefined {
  if (COMPARISON.has(op) || op === '~~' || op === '!~~' || op === '~' || op === '@>' || op === '<@' || op === '&&') return 'bool';
  const lt = knownType(l);
  const rt = knownType(r);
  if (op === '||') {
    if (lt && rt && lt === rt) return lt;
    if (lt?.endsWith('[]')) return lt;
    if (rt?.endsWith('[]')) return rt;
    if (lt === 'jsonb' || rt === 'jsonb') return 'jsonb';
    return 'text';
  }
  if (lt && rt && DATETIME.has(lt) && DATETIME.has(rt)) {
    if (op === '-' && lt === rt && lt !== 'interval') return lt === 'date' ? 'int4' : 'interval';
    if (lt === 'interval') return rt;
    if (lt === 'date' && rt === 'interval') return 'timestamp';
    return lt;
  }
  if (lt === 'date' && (rt === 'int4' || r === 'unknown')) return 'date';
  if (lt && rt && lt !== rt) {
    const rank = ['int2', 'int4', 'int8', 'numeric', 'float4', 'float8'];
    if (rank.includes(lt) && rank.includes(rt)) return rank[Math.max(rank.indexOf(lt), rank.indexOf(rt))];
  }
  return lt ?? rt;
}

/**
 * Picks the volatility of an overloaded built-in from the argument types that could be inferred.
 * Returns undefined when the name has no overloads of different volatility.
 */
function resolveOverload(name: string, argTypes: Array<string | undefined>): Vol | undefined {
  const list = builtins().overloads[name];
  if (!list) return undefined;
  const byArity = list.filter(([args]) => (args === '' ? 0 : args.split(',').length) === argTypes.length);
  const pool = byArity.length > 0 ? byArity : list;
  const vols = new Set(pool.map(([, v]) => v));
  if (vols.size === 1) return pool[0][1];
  const exact = pool.filter(([args]) => {
    const want = args === '' ? [] : args.split(',');
    return want.every((w, i) => argTypes[i] === undefined || argTypes[i] === 'unknown' || argTypes[i] === w);
  });
  if (exact.length > 0) {
    const v = new Set(exact.map(([, x]) => x));
    if (v.size === 1) return exact[0][1];
    return exact.map(([, x]) => x).reduce(worst);
  }
  return pool.map(([, x]) => x).reduce(worst);
}

/** Short text for a list of causes: `now() is stable (PostgreSQL catalog); ...`. */
export function describeCauses(causes: Cause[]): string {
  const seen = new Set<string>();
  const parts: string[] = [];
  for (const c of causes) {
    const s = `${c.sql} ${c.why}`;
    if (seen.has(s)) continue;
    seen.add(s);
    parts.push(s);
  }
  return parts.join('; ');
}

/** The volatility PostgreSQL would record for a function name, if it is a built-in. */
export function builtinVolatility(name: string): Vol | undefined {
  return builtins().functions[name];
}
