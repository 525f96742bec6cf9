/**
 * A rule that throws, a statement the catalog cannot take, a node the deparser cannot write and
 * expressions nested thousands of levels deep: the run goes on, and what can be checked is.
 */
import { Catalog } from '../src/catalog';
import { lint, LintOptions, LintResult } from '../src/lint';
import type { InputFile } from '../src/model';
import { loadParser, parseSql } from '../src/parser';
import { allRules } from '../src/registry';
import type { Rule } from '../src/rule';
import { RUNNERS } from '../src/runners';
import { DeparseError, clone, deparse, deparseOr, tryDeparse } from '../src/sqlgen';
import { parseTarget } from '../src/targets';
import { tempReferences } from '../src/temp-objects';
import { analyzeExpression } from '../src/volatility';

beforeAll(loadParser);

function run(text: string, extra: Partial<LintOptions> = {}): LintResult {
  const inputs: InputFile[] = [{ path: 'm.sql', rel: 'm.sql', text, report: true }];
  return lint(inputs, { target: parseTarget('pgd5')!, runner: RUNNERS.plain, includeDown: false, severities: {}, ruleOptions: {}, ...extra });
}

/** The tree of the first statement of `sql`. */
function tree(sql: string): any {
  const r = parseSql(sql);
  if (!('stmts' in r)) throw new Error(r.message);
  return r.stmts[0].stmt;
}

const found = (r: LintResult): string[] => r.files[0].findings.map((f) => `${f.line} ${f.ruleId} ${f.severity}`);

/** A rule that throws on every CREATE INDEX (and in its transaction and end hooks when asked). */
function throwing(where: { statement?: boolean; transaction?: boolean; end?: boolean }): Rule {
  return {
    meta: { id: 'test-throws', description: 'throws', severity: () => 'error', fixable: false },
    statement(ctx) {
      if (ctx.stmt.type === 'IndexStmt' && where.statement) throw new RangeError('Maximum call stack size exceeded');
      if (ctx.stmt.type === 'AlterTableStmt') ctx.report({ message: 'an ALTER TABLE' });
    },
    transaction(ctx) {
      if (where.transaction && ctx.tx.statements.some((s) => s.type === 'IndexStmt')) throw new Error('transaction hook failed\n    at somewhere (x.js:1:1)');
    },
    end() {
      if (where.end) throw new TypeError('end hook failed');
    },
  };
}

const TEXT = 'CREATE INDEX i ON t (a);\nALTER TABLE t ADD COLUMN b int;\nCREATE INDEX j ON t (b);\nALTER TABLE t ADD COLUMN c int;\n';

describe('a rule that throws does not end the run', () => {
  test('on a statement: a warning for it under the rule, the other rules and statements still checked', () => {
    const r = run(TEXT, { rules: [...allRules(), throwing({ statement: true })] });
    expect(found(r)).toEqual([
      '1 require-concurrent-index error',
      '1 test-throws warning',
      '2 test-throws error',
      '3 require-concurrent-index error',
      '3 test-throws warning',
      '4 test-throws error',
    ]);
    const failure = r.files[0].findings.find((f) => f.ruleId === 'test-throws' && f.line === 1)!;
    expect(failure.message).toBe('pgd-lint could not check this statement with test-throws: Maximum call stack size exceeded');
    expect(failure.fixable).toBe(false);
  });

  test('the failure is a warning even when the rule is configured as an error, and an ignore directive silences it', () => {
    const r = run(TEXT, { rules: [throwing({ statement: true })], severities: { 'test-throws': 'error' } });
    expect(found(r)).toEqual(['1 test-throws warning', '2 test-throws error', '3 test-throws warning', '4 test-throws error']);
    const ignored = run(`-- pgd-lint-ignore test-throws\n${TEXT}`, { rules: [throwing({ statement: true })] });
    expect(ignored.files[0].findings.filter((f) => !f.suppressed).map((f) => `${f.line} ${f.ruleId}`)).toEqual(['3 test-throws', '4 test-throws', '5 test-throws']);
  });

  test('in the transaction and end hooks: a warning (first line of the message, no stack), the statements still checked', () => {
    const r = run(TEXT, { rules: [...allRules(), throwing({ transaction: true, end: true })] });
    expect(found(r)).toEqual([
      '1 require-concurrent-index error',
      '1 test-throws warning',
      '2 test-throws error',
      '3 require-concurrent-index error',
      '3 test-throws warning',
      '4 test-throws error',
      '4 test-throws warning',
    ]);
    const messages = r.files[0].findings.filter((f) => f.severity === 'warning').map((f) => f.message);
    expect(messages).toEqual([
      'pgd-lint could not check this transaction with test-throws: transaction hook failed',
      'pgd-lint could not check this transaction with test-throws: transaction hook failed',
      'pgd-lint could not check the migrations with test-throws: end hook failed',
    ]);
  });
});

describe('a statement the catalog cannot take', () => {
  afterEach(() => jest.restoreAllMocks());

  test('is left out of the replay; the statements after it are still linted', () => {
    const apply = Catalog.prototype.apply;
    jest.spyOn(Catalog.prototype, 'apply').mockImplementation(function (this: Catalog, ...args: Parameters<Catalog['apply']>) {
      if ('CreateStmt' in args[0] && args[0].CreateStmt.relation?.relname === 'broken') throw new Error('catalog bug');
      return apply.apply(this, args);
    });
    const r = run('CREATE TABLE ok (id bigint PRIMARY KEY);\nCREATE TABLE broken (id bigint PRIMARY KEY);\nCREATE INDEX a ON ok (id);\nCREATE INDEX b ON broken (id);\nCREATE INDEX c ON other (id);\n');
    // ok is new (created in this file): no finding; broken never reached the catalog: an existing table.
    expect(found(r)).toEqual(['4 require-concurrent-index error', '5 require-concurrent-index error']);
  });
});

describe('the deparser', () => {
  test('throws a DeparseError for a tree it cannot write; deparseOr and tryDeparse fall back', () => {
    const opclassParams = tree('CREATE INDEX CONCURRENTLY ix ON t (a o (x))');
    expect(() => deparse(opclassParams)).toThrow(DeparseError);
    expect(() => deparse(opclassParams)).toThrow(/^cannot write SQL for IndexStmt: /);
    expect(tryDeparse(opclassParams)).toBeUndefined();
    expect(deparseOr(opclassParams, 'as written')).toBe('as written');
    expect(deparseOr(opclassParams, () => 'lazily')).toBe('lazily');
    const plain = tree('CREATE INDEX ix ON t (a)');
    expect(deparseOr(plain, () => 'unused')).toBe('CREATE INDEX ix ON t (a)');
  });

  test('a statement it cannot write: reported with the statement as written, no stack, no fix from a guess', () => {
    const r = run('BEGIN;\nCREATE INDEX CONCURRENTLY ix ON t (a o (x));\nCOMMIT;\nCREATE INDEX ix2 ON t (a o (x));\n');
    expect(found(r)).toEqual(['2 no-concurrent-in-transaction error', '4 require-concurrent-index error']);
    const [inTx, plain] = r.files[0].findings;
    expect(inTx.suggestion).toContain('CREATE INDEX CONCURRENTLY ix ON t (a o (x));');
    // The CONCURRENTLY version is shown, but without the deparser there is no mechanical fix.
    expect(plain.suggestion).toContain('CREATE INDEX CONCURRENTLY ix2 ON t (a o (x));');
    expect(plain.fixable).toBe(false);
  });
});

describe('deep expressions', () => {
  const negate = (n: number): string => `${'-('.repeat(n)}random()${')'.repeat(n)}`;
  const caseExpr = (n: number, inner: string): string => `${'CASE WHEN a THEN '.repeat(n)}${inner}${' END'.repeat(n)}`;
  const exprOf = (sql: string): any => tree(`SELECT ${sql}`).SelectStmt.targetList[0].ResTarget.val;
  /** `inner` under n levels of the node `wrap` makes (deeper than the parser goes: no walker may recurse per level). */
  const nest = (n: number, inner: any, wrap: (x: any) => any): any => {
    let e = inner;
    for (let i = 0; i < n; i++) e = wrap(e);
    return e;
  };
  const minus = (x: any): any => ({ A_Expr: { kind: 'AEXPR_OP', name: [{ String: { sval: '-' } }], rexpr: x, location: 0 } });
  const when = (x: any): any => ({ CaseExpr: { args: [{ CaseWhen: { expr: { ColumnRef: { fields: [{ String: { sval: 'a' } }] } }, result: x } }] } });

  test('the volatility analysis goes to the bottom of a 100,000-deep expression, causes in the same order as at depth 1', () => {
    const a = analyzeExpression(nest(100000, exprOf('random()'), minus));
    expect(a.volatility).toBe('v');
    expect(a.causes.map((c) => c.sql)).toEqual(['random()']);
    const shallow = analyzeExpression(exprOf("CASE WHEN a THEN now() + interval '1 day' ELSE clock_timestamp() END"), { targetType: 'timestamptz' });
    const deep = analyzeExpression(nest(100000, exprOf("CASE WHEN a THEN now() + interval '1 day' ELSE clock_timestamp() END"), when), { targetType: 'timestamptz' });
    expect(shallow.causes.map((c) => c.sql)).toEqual(['now()', "now() + '1 day'::interval", 'clock_timestamp()']);
    expect(deep.causes).toEqual(shallow.causes);
    expect(deep.volatility).toBe('v');
    expect(analyzeExpression(exprOf(negate(2500))).volatility).toBe('v');
  });

  test('temporary objects are found at the bottom of a 100,000-deep CASE, and of one the parser takes', () => {
    const catalog = new Catalog();
    catalog.apply(tree('CREATE TEMP TABLE tmp (a int)'), { fileIndex: 0, txId: 0, stmtId: 0 });
    const look = { catalog, implicitTemp: new Map(), fileIndex: 0 };
    const refs = tempReferences(look, [nest(100000, exprOf("nextval('tmp')"), when)]);
    expect(refs.map((x) => `${x.kind} ${x.q.schema}.${x.q.name}`)).toEqual(['table pg_temp.tmp']);
    const index = tree(`CREATE INDEX j ON t ((${caseExpr(1000, "nextval('tmp')")}))`);
    expect(tempReferences(look, [index]).map((x) => `${x.kind} ${x.q.schema}.${x.q.name}`)).toEqual(['table pg_temp.tmp']);
  });

  test('clone copies a tree deeper than JSON.stringify goes', () => {
    const expr = nest(20000, exprOf('random()'), minus);
    expect(() => JSON.stringify(expr)).toThrow(RangeError);
    const copy = clone(expr);
    let a: any = expr;
    let b: any = copy;
    let depth = 0;
    let same = 0;
    while (a?.A_Expr) {
      if (b.A_Expr === a.A_Expr || b.A_Expr.name === a.A_Expr.name || b.A_Expr.name[0].String.sval !== '-' || b.A_Expr.kind !== a.A_Expr.kind) same++;
      a = a.A_Expr.rexpr;
      b = b.A_Expr.rexpr;
      depth++;
    }
    expect({ depth, same }).toEqual({ depth: 20000, same: 0 });
    expect(b).not.toBe(a);
    expect(b).toEqual(a);
  });

  test('a tree too deep for the deparser: a DeparseError, not a RangeError', () => {
    expect(() => deparse(nest(100000, exprOf('1'), minus))).toThrow(DeparseError);
  });

  test('the CLI cases: linted as errors, with no "could not check"', () => {
    const r = run(`ALTER TABLE t ADD COLUMN z int DEFAULT ${negate(2500)};\nCREATE INDEX j ON t ((${caseExpr(1000, '1')}));\n`);
    expect(found(r)).toEqual(['1 no-add-column-volatile-default error', '2 require-concurrent-index error']);
    expect(r.files[0].findings.some((f) => f.message.includes('could not check'))).toBe(false);
  });

  test('a realistic depth (300) is checked normally, suggestion and fix included', () => {
    const r = run(`CREATE INDEX j ON t ((${caseExpr(300, '1')}));\n`);
    expect(found(r)).toEqual(['1 require-concurrent-index error']);
    expect(r.files[0].findings[0].fixable).toBe(true);
    expect(r.files[0].findings[0].suggestion).toContain('CREATE INDEX CONCURRENTLY j ON t ((CASE WHEN a THEN CASE WHEN a THEN');
  });
});
