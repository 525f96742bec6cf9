/** The migration model: transactions per runner, the catalog across files, embedded SQL, directives. */
import { lint, LintOptions, LintResult } from '../src/lint';
import { InputFile, Stmt } from '../src/model';
import { loadParser } from '../src/parser';
import type { Rule } from '../src/rule';
import { RUNNERS } from '../src/runners';
import { parseTarget } from '../src/targets';
import * as requireConcurrentIndex from '../rules/require-concurrent-index';

beforeAll(loadParser);

function run(files: Array<[string, string, string?]>, runner = 'plain', extra: Partial<LintOptions> = {}): LintResult {
  const inputs: InputFile[] = files.map(([p, text, conf]) => ({ path: p, rel: p, text, conf, report: true }));
  return lint(inputs, { target: parseTarget('pgd5')!, runner: RUNNERS[runner], includeDown: false, severities: {}, ruleOptions: {}, ...extra });
}

/** "<tx kind>:<first words of each statement>" per transaction, for the statements of a file. */
function txShape(result: LintResult, fileIndex = 0): string[] {
  const file = result.model.files[fileIndex];
  const seen = new Map<number, string[]>();
  const kinds = new Map<number, string>();
  for (const s of file.statements.filter((x: Stmt) => !x.parent && !x.down)) {
    // Statement ranges end at the last token, before the semicolon.
    const words = file.source.text.slice(s.start, s.end).split(/\s+/).slice(0, 2).join(' ');
    if (!seen.has(s.tx.id)) seen.set(s.tx.id, []);
    seen.get(s.tx.id)!.push(words);
    kinds.set(s.tx.id, s.tx.kind + (s.tx.block ? '' : '(no block)'));
  }
  return [...seen.entries()].map(([id, ws]) => `${kinds.get(id)}: ${ws.join(' | ')}`);
}

describe('transactions per runner preset', () => {
  test('plain: autocommit, explicit BEGIN ... COMMIT, COMMIT AND CHAIN', () => {
    const r = run([['a.sql', 'CREATE TABLE a (id int PRIMARY KEY);\nBEGIN;\nALTER TABLE a ADD b int;\nCOMMIT AND CHAIN;\nALTER TABLE a ADD c int;\nCOMMIT;\nSELECT 1;\n']]);
    expect(txShape(r)).toEqual([
      'single(no block): CREATE TABLE',
      'explicit: BEGIN | ALTER TABLE | COMMIT AND',
      'explicit: ALTER TABLE | COMMIT',
      'single(no block): SELECT 1',
    ]);
  });

  test('flyway: each file in one transaction; a file with CREATE INDEX CONCURRENTLY runs outside; .sql.conf opts out', () => {
    const r = run(
      [
        ['V1__init.sql', 'CREATE TABLE a (id int PRIMARY KEY);\nINSERT INTO a VALUES (1);\n'],
        ['V2__idx.sql', 'CREATE INDEX CONCURRENTLY a_idx ON a (id);\n'],
        ['V3__conf.sql', 'ALTER TABLE a ADD b int;\nALTER TABLE a ADD c int;\n', 'executeInTransaction=false\n'],
      ],
      'flyway',
    );
    expect(txShape(r, 0)).toEqual(['runner: CREATE TABLE | INSERT INTO']);
    expect(txShape(r, 1)).toEqual(['single(no block): CREATE INDEX']);
    expect(txShape(r, 2)).toEqual(['single(no block): ALTER TABLE', 'single(no block): ALTER TABLE']);
  });

  test('golang-migrate: the whole file is one query (implicit block when several statements); .down.sql not linted', () => {
    const r = run([
      ['1_init.up.sql', 'CREATE TABLE a (id int PRIMARY KEY);\nCREATE INDEX a_idx ON a (id);\n'],
      ['2_one.up.sql', 'CREATE INDEX CONCURRENTLY a2 ON a (id);\n'],
    ], 'golang-migrate');
    expect(txShape(r, 0)).toEqual(['implicit: CREATE TABLE | CREATE INDEX']);
    expect(txShape(r, 1)).toEqual(['single(no block): CREATE INDEX']);
    expect(RUNNERS['golang-migrate'].isDownFile('1_init.down.sql')).toBe(true);
  });

  test('goose: Up/Down sections, StatementBegin/End, NO TRANSACTION', () => {
    const up = [
      '-- +goose Up',
      '-- +goose StatementBegin',
      'CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN 1; END $$;',
      '-- +goose StatementEnd',
      'CREATE TABLE a (id int PRIMARY KEY);',
      '',
      '-- +goose Down',
      'DROP TABLE a;',
      '',
    ].join('\n');
    const r = run([['00001_init.sql', up], ['00002_idx.sql', '-- +goose NO TRANSACTION\n-- +goose Up\nCREATE INDEX CONCURRENTLY a_idx ON a (id);\n-- +goose Down\nDROP INDEX a_idx;\n']], 'goose');
    expect(txShape(r, 0)).toEqual(['runner: CREATE FUNCTION | CREATE TABLE']);
    expect(r.model.files[0].statements.find((s) => s.type === 'DropStmt')!.down).toBe(true);
    expect(txShape(r, 1)).toEqual(['single(no block): CREATE INDEX']);
  });

  test('dbmate: migrate:up / migrate:down, transaction:false sends the block as one query', () => {
    const r = run(
      [
        ['20240101_a.sql', '-- migrate:up\nCREATE TABLE a (id int PRIMARY KEY);\nINSERT INTO a VALUES (1);\n\n-- migrate:down\nDROP TABLE a;\n'],
        ['20240102_b.sql', '-- migrate:up transaction:false\nCREATE INDEX CONCURRENTLY a_idx ON a (id);\n\n-- migrate:down\nDROP INDEX a_idx;\n'],
      ],
      'dbmate',
    );
    expect(txShape(r, 0)).toEqual(['runner: CREATE TABLE | INSERT INTO']);
    expect(txShape(r, 1)).toEqual(['single(no block): CREATE INDEX']);
  });

  test('sqitch: deploy scripts with their own BEGIN/COMMIT', () => {
    const r = run([['deploy/users.sql', '-- Deploy app:users to pg\n\nBEGIN;\n\nCREATE TABLE app.users (id bigint PRIMARY KEY);\n\nCOMMIT;\n']], 'sqitch');
    expect(txShape(r)).toEqual(['explicit: BEGIN | CREATE TABLE | COMMIT']);
    expect(RUNNERS.sqitch.isDownFile('revert/users.sql')).toBe(true);
  });

  test('alembic offline output: one BEGIN ... COMMIT around the run; autocommit_block', () => {
    const text = [
      'BEGIN;',
      '',
      'CREATE TABLE alembic_version (',
      '    version_num VARCHAR(32) NOT NULL, ',
      '    CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)',
      ');',
      '',
      '-- Running upgrade  -> 1a2b3c',
      '',
      'CREATE TABLE users (id SERIAL NOT NULL, PRIMARY KEY (id));',
      '',
      "INSERT INTO alembic_version (version_num) VALUES ('1a2b3c') RETURNING alembic_version.version_num;",
      '',
      '-- Running upgrade 1a2b3c -> 4d5e6f',
      '',
      'COMMIT;',
      '',
      'CREATE INDEX CONCURRENTLY ix_users_id ON users (id);',
      '',
      'BEGIN;',
      '',
      "UPDATE alembic_version SET version_num='4d5e6f' WHERE alembic_version.version_num = '1a2b3c';",
      '',
      'COMMIT;',
      '',
    ].join('\n');
    const r = run([['upgrade.sql', text]], 'alembic');
    expect(txShape(r)).toEqual([
      'explicit: BEGIN | CREATE TABLE | CREATE TABLE | INSERT INTO | COMMIT',
      'single(no block): CREATE INDEX',
      'explicit: BEGIN | UPDATE alembic_version | COMMIT',
    ]);
  });

  test('prisma: migration.sql is one query', () => {
    const r = run([['20240101000000_init/migration.sql', '-- CreateTable\nCREATE TABLE "User" ("id" SERIAL NOT NULL, CONSTRAINT "User_pkey" PRIMARY KEY ("id"));\n\n-- CreateIndex\nCREATE UNIQUE INDEX "User_id_key" ON "User"("id");\n']], 'prisma');
    expect(txShape(r)).toEqual(['implicit: CREATE TABLE | CREATE UNIQUE']);
  });

  test('django: sqlmigrate output with BEGIN/COMMIT', () => {
    const text = 'BEGIN;\n--\n-- Create model Author\n--\nCREATE TABLE "library_author" ("id" bigint NOT NULL PRIMARY KEY GENERATED BY DEFAULT AS IDENTITY, "name" varchar(100) NOT NULL);\nCOMMIT;\n';
    const r = run([['0001_initial.sql', text]], 'django');
    expect(txShape(r)).toEqual(['explicit: BEGIN | CREATE TABLE | COMMIT']);
  });

  test('ROLLBACK undoes the catalog; SAVEPOINT / ROLLBACK TO too', () => {
    const r = run([['a.sql', 'BEGIN;\nCREATE TABLE gone (id int PRIMARY KEY);\nROLLBACK;\nBEGIN;\nCREATE TABLE kept (id int PRIMARY KEY);\nSAVEPOINT s;\nCREATE TABLE undone (id int PRIMARY KEY);\nROLLBACK TO SAVEPOINT s;\nCOMMIT;\n']]);
    void r;
    const seen: string[] = [];
    const probe: Rule = {
      meta: { id: 'probe', description: 'probe', severity: () => 'error', fixable: false },
      end(ctx) {
        seen.push(...[...ctx.catalog.tables.keys()].sort());
      },
    };
    run([['a.sql', 'BEGIN;\nCREATE TABLE gone (id int PRIMARY KEY);\nROLLBACK;\nBEGIN;\nCREATE TABLE kept (id int PRIMARY KEY);\nSAVEPOINT s;\nCREATE TABLE undone (id int PRIMARY KEY);\nROLLBACK TO SAVEPOINT s;\nCOMMIT;\n']], 'plain', { rules: [probe] });
    expect(seen).toEqual(['public.kept']);
  });
});

describe('catalog and rules', () => {
  test('CREATE INDEX on a table created earlier in the same transaction is not flagged, with or without BEGIN', () => {
    const rules = [requireConcurrentIndex.rule];
    const withBegin = run([['a.sql', 'BEGIN;\nCREATE TABLE t (id int PRIMARY KEY, a int);\nCREATE INDEX t_a ON t (a);\nCOMMIT;\n']], 'plain', { rules });
    const wrapped = run([['V1__a.sql', 'CREATE TABLE t (id int PRIMARY KEY, a int);\nCREATE INDEX t_a ON t (a);\n']], 'flyway', { rules });
    expect(withBegin.files[0].findings).toEqual([]);
    expect(wrapped.files[0].findings).toEqual([]);
    const later = run([['V1__a.sql', 'CREATE TABLE t (id int PRIMARY KEY, a int);\n'], ['V2__b.sql', 'CREATE INDEX t_a ON t (a);\n']], 'flyway', { rules });
    expect(later.files[1].findings.map((f) => [f.ruleId, f.line])).toEqual([['require-concurrent-index', 1]]);
  });

  test('a rule sees a column type created two files earlier (search_path and quoting respected)', () => {
    const types: string[] = [];
    const probe: Rule = {
      meta: { id: 'probe', description: 'probe', severity: () => 'error', fixable: false },
      statement(ctx) {
        if (ctx.stmt.type !== 'AlterTableStmt') return;
        const t = ctx.table({ schema: ctx.stmt.f.relation.schemaname, name: ctx.stmt.f.relation.relname });
        const col = t?.columns.get('Amount');
        types.push(col ? `${t!.schema}.${t!.name}.${col.name}: ${col.type}(${(col.typmods ?? []).join(',')}) notNull=${col.notNull}` : 'unknown');
      },
    };
    run(
      [
        ['0001.sql', 'CREATE SCHEMA billing;\nSET search_path TO billing, public;\nCREATE TABLE "Invoices" (id bigint PRIMARY KEY, "Amount" NUMERIC(10, 2) NOT NULL);\n'],
        ['0002.sql', 'CREATE TABLE other (id int PRIMARY KEY);\n'],
        ['0003.sql', 'ALTER TABLE billing."Invoices" ALTER COLUMN "Amount" TYPE numeric(12,2);\nALTER TABLE "Invoices" ADD x int;\n'],
      ],
      'plain',
      { rules: [probe] },
    );
    // The second ALTER is unqualified: search_path was reset for the new file, so "Invoices" is not found in public.
    expect(types).toEqual(['billing.Invoices.Amount: numeric(10,2) notNull=true', 'unknown']);
  });

  test('an ignore above a 12-line statement suppresses a finding reported on its 9th line', () => {
    const stmt = [
      '-- pgd-lint-ignore require-concurrent-index -- built while the table is empty',
      'DO $$',
      'DECLARE',
      '  n int;',
      'BEGIN',
      '  SELECT count(*) INTO n FROM accounts;',
      '  IF n = 0 THEN',
      '    RAISE NOTICE $m$empty$m$;',
      '  END IF;',
      '  CREATE INDEX accounts_owner_idx ON accounts (owner_id);',
      '  RAISE NOTICE $m$done$m$;',
      'END',
      '$$;',
      'CREATE INDEX other_idx ON accounts (x);',
    ].join('\n');
    const r = run([['a.sql', stmt]], 'plain', { rules: [requireConcurrentIndex.rule] });
    const findings = r.files[0].findings;
    expect(findings.filter((f) => !f.suppressed).map((f) => [f.ruleId, f.line])).toEqual([['require-concurrent-index', 14]]);
    const suppressed = findings.filter((f) => f.suppressed);
    expect(suppressed.map((f) => f.line)).toEqual([10]);
    // The directive covers the whole 12-line DO statement (lines 2 to 13): line 10 is its 9th line.
    const file = r.files[0].file;
    const outer = file.statements.find((s) => !s.parent && s.type === 'DoStmt')!;
    const first = file.source.position(outer.start).line;
    expect([first, file.source.position(outer.end).line]).toEqual([2, 13]);
    expect(suppressed[0].line - first + 1).toBe(9);
  });

  test('CREATE INDEX inside run_on_all_nodes and inside a DO block are reported at their true line and column', () => {
    const text = [
      "SELECT 'é';",
      'SELECT bdr.run_on_all_nodes($ddl$',
      '    CREATE INDEX events_kind_idx ON events (kind);',
      '$ddl$);',
      "SELECT bdr.replicate_ddl_command('CREATE INDEX q_idx ON q (a) WHERE b <> ''x''');",
      'DO $do$ BEGIN',
      '      CREATE INDEX accounts_owner_idx ON accounts (owner_id);',
      'END $do$;',
    ].join('\n');
    const r = run([['a.sql', text]], 'plain', { rules: [requireConcurrentIndex.rule] });
    expect(r.files[0].findings.map((f) => [f.line, f.column, f.endLine, f.endColumn])).toEqual([
      [3, 5, 3, 50],
      [5, 35, 5, 79],
      [7, 7, 7, 61],
    ]);
  });
});
