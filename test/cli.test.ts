/** The built CLI as a subprocess: exit codes, formats, input handling. */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { BIN, ROOT, cli, tempDir } from './helpers/cli';

const BROKEN_BETWEEN = [
  'CREATE INDEX orders_customer_idx ON orders (customer_id);',
  'CREATE INDEXX broken ON orders (x);',
  'CREATE INDEX orders_status_idx ON orders (status);',
  '',
].join('\n');

describe('exit codes', () => {
  test('0: nothing wrong', () => {
    const dir = tempDir({ 'ok.sql': 'CREATE TABLE t (id bigint PRIMARY KEY);\nCREATE INDEX t_idx ON t (id);\n' });
    const r = cli([path.join(dir, 'ok.sql'), '--format', 'json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).summary.errors).toBe(0);
  });

  test('1: lint errors', () => {
    const dir = tempDir({ 'bad.sql': 'CREATE INDEX orders_idx ON orders (a);\n' });
    const r = cli([path.join(dir, 'bad.sql')]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('require-concurrent-index');
  });

  test('2: usage, config and I/O errors, one line, no stack trace', () => {
    const cases: Array<[string[], RegExp]> = [
      [['missing.sql'], /missing\.sql: no such file or directory/],
      [['--target', 'pgd9', 'x.sql'], /unknown target "pgd9"; valid targets: bdr1, .*pgd6\.2/],
      [['--runner', 'nope', 'x.sql'], /unknown runner "nope"/],
      [['--format', 'yaml', 'x.sql'], /unknown format "yaml"/],
      [['--rule', 'no-such-rule=off', 'x.sql'], /unknown rule id "no-such-rule"/],
      [['--bogus-flag'], /bogus-flag/],
      [[], /no files given/],
    ];
    for (const [args, msg] of cases) {
      const r = cli(args);
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
      expect(r.stderr).toMatch(msg);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
  });

  test('2: a file that is not UTF-8 names the file, line and column', () => {
    const dir = tempDir({ 'latin1.sql': Buffer.from([0x53, 0x45, 0x4c, 0x0a, 0x27, 0xe9, 0x27, 0x0a]) });
    const r = cli([path.join(dir, 'latin1.sql')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/latin1\.sql:2:2: not UTF-8 text/);
  });

  test('warnings alone exit 0, and 1 past --max-warnings', () => {
    const dir = tempDir({ 'w.sql': '-- pgd-lint-ignore no-such-rule\nSELECT 1;\n' });
    expect(cli([path.join(dir, 'w.sql')]).code).toBe(0);
    expect(cli([path.join(dir, 'w.sql'), '--max-warnings', '0']).code).toBe(1);
  });
});

describe('a broken statement between two CREATE INDEX statements', () => {
  test('json reports the syntax error on its line and require-concurrent-index on both others', () => {
    const dir = tempDir({ 'm.sql': BROKEN_BETWEEN });
    const r = cli([path.join(dir, 'm.sql'), '--format', 'json']);
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(out.version).toBe(1);
    expect(out.target).toBe('pgd5');
    const findings = out.files[0].findings.map((f: { ruleId: string; line: number }) => [f.ruleId, f.line]);
    expect(findings).toEqual([
      ['require-concurrent-index', 1],
      ['syntax-error', 2],
      ['require-concurrent-index', 3],
    ]);
    const f = out.files[0].findings[0];
    for (const k of ['ruleId', 'severity', 'message', 'line', 'column', 'endLine', 'endColumn', 'suggestion', 'fixable']) expect(f).toHaveProperty(k);
    expect(out.summary).toEqual({ files: 1, errors: 3, warnings: 0, fixable: 2 });
  });
});

describe('input', () => {
  test('folders recurse, take *.sql, in natural order; globs work', () => {
    const dir = tempDir({
      'migrations/V10__b.sql': 'CREATE INDEX b_idx ON t (b);\n',
      'migrations/V2__a.sql': 'CREATE INDEX a_idx ON t (a);\n',
      'migrations/notes.txt': 'not sql',
      'migrations/sub/V3__c.sql': 'SELECT 1;\n',
    });
    const r = cli(['migrations', '--format', 'json'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).files.map((f: { path: string }) => f.path)).toEqual([
      path.join('migrations', 'V2__a.sql'),
      path.join('migrations', 'sub', 'V3__c.sql'),
      path.join('migrations', 'V10__b.sql'),
    ]);
    const g = cli(['migrations/**/V*.sql', '--format', 'json'], { cwd: dir });
    expect(JSON.parse(g.stdout).files.map((f: { path: string }) => f.path)).toEqual(['migrations/V2__a.sql', 'migrations/sub/V3__c.sql', 'migrations/V10__b.sql']);
  });

  test('symlinks in a folder: a link to a file is linted, a link to a folder is not followed, a dangling link or a loop is left out', () => {
    const dir = tempDir({
      'm/0001_good.sql': 'SELECT 1;\n',
      'shared/0002_idx.sql': 'CREATE INDEX i ON t (a);\n',
      'other/0004_far.sql': 'CREATE INDEX far ON t (a);\n',
    });
    fs.symlinkSync(path.join('..', 'shared', '0002_idx.sql'), path.join(dir, 'm', '0002_idx.sql'));
    fs.symlinkSync('missing.sql', path.join(dir, 'm', '0003_dangling.sql'));
    fs.symlinkSync(path.join('..', 'other'), path.join(dir, 'm', 'linked'));
    fs.symlinkSync('..', path.join(dir, 'm', 'up'));
    fs.symlinkSync('0006_b.sql', path.join(dir, 'm', '0005_a.sql'));
    fs.symlinkSync('0005_a.sql', path.join(dir, 'm', '0006_b.sql'));
    const r = cli(['m', '--format', 'json'], { cwd: dir });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout) as { files: Array<{ path: string; findings: Array<{ ruleId: string }> }> };
    expect(out.files.map((f) => [f.path, f.findings.map((x) => x.ruleId)])).toEqual([
      [path.join('m', '0001_good.sql'), []],
      [path.join('m', '0002_idx.sql'), ['require-concurrent-index']],
    ]);
    // The glob over the same folder finds the same files.
    const g = cli(['m/*.sql', '--format', 'json'], { cwd: dir });
    expect((JSON.parse(g.stdout) as { files: Array<{ path: string }> }).files.map((f) => f.path)).toEqual(['m/0001_good.sql', 'm/0002_idx.sql']);
  });

  test('0002_x comes before 0010_y', () => {
    const dir = tempDir({ '0010_y.sql': 'SELECT 1;', '0002_x.sql': 'SELECT 1;' });
    const r = cli(['.', '--format', 'json'], { cwd: dir });
    expect(JSON.parse(r.stdout).files.map((f: { path: string }) => path.basename(f.path))).toEqual(['0002_x.sql', '0010_y.sql']);
  });

  test('--stdin with --stdin-filename', () => {
    const r = cli(['--stdin', '--stdin-filename', 'db/V3__idx.sql', '--format', 'json'], { input: 'CREATE INDEX i ON t (a);\n' });
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(out.files[0].path).toBe('db/V3__idx.sql');
    expect(out.files[0].findings[0].line).toBe(1);
  });

  test('BOM and CRLF do not shift positions; columns count characters', () => {
    const text = '\ufeff-- ünïcödé ☕ comment\r\nSELECT \'naïve\' AS x; CREATE INDEX i ON t (a);\r\n';
    const dir = tempDir({ 'crlf.sql': text });
    const out = JSON.parse(cli([path.join(dir, 'crlf.sql'), '--format', 'json']).stdout);
    const f = out.files[0].findings[0];
    expect([f.line, f.column, f.endLine, f.endColumn]).toEqual([2, 22, 2, 45]);
  });

  test('psql meta-commands and COPY data are skipped without shifting positions', () => {
    const text = [
      '\\set ON_ERROR_STOP on',
      '\\connect app',
      'COPY t (a, b) FROM stdin;',
      '1\tx;y',
      '2\t\\N',
      '\\.',
      'CREATE INDEX i ON t (a);',
      '',
    ].join('\n');
    const dir = tempDir({ 'psql.sql': text });
    const out = JSON.parse(cli([path.join(dir, 'psql.sql'), '--format', 'json']).stdout);
    expect(out.files[0].findings.map((f: { ruleId: string; line: number }) => [f.ruleId, f.line])).toEqual([['require-concurrent-index', 7]]);
  });

  test('an unreadable file is exit 2 naming it', () => {
    if (process.getuid && process.getuid() === 0) {
      // root reads anything: use a path that is a directory entry we cannot read instead
      const dir = tempDir({});
      const r = cli([path.join(dir, 'nope', 'x.sql')]);
      expect(r.code).toBe(2);
      return;
    }
    const dir = tempDir({ 'secret.sql': 'SELECT 1;' });
    fs.chmodSync(path.join(dir, 'secret.sql'), 0o000);
    const r = cli([path.join(dir, 'secret.sql')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/secret\.sql: cannot read file: permission denied/);
  });
});

describe('stylish', () => {
  test('header per file, line:col, severity, message, rule id, suggestion, summary; no colour off a TTY', () => {
    const dir = tempDir({ 'a.sql': 'CREATE INDEX i ON t (a);\n' });
    const r = cli([path.join(dir, 'a.sql')]);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe(path.join(dir, 'a.sql'));
    expect(lines[1]).toMatch(/^ {2}1:1 {2}error {4}CREATE INDEX "i" on existing table "t" .* {2}require-concurrent-index$/);
    expect(r.stdout).toContain('suggestion:');
    expect(r.stdout).toContain('CREATE INDEX CONCURRENTLY i ON t (a);');
    expect(r.stdout).toMatch(/1 problem \(1 error, 0 warnings\) in 1 file checked against pgd5/);
    expect(r.stdout).not.toContain('\u001b[');
    expect(cli([path.join(dir, 'a.sql'), '--color']).stdout).toContain('\u001b[');
  });
});

describe('--list-rules and --explain', () => {
  test('--list-rules shows each rule with its severity for the target', () => {
    const r = cli(['--list-rules', '--target', 'bdr1']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/require-concurrent-index\s+error/);
    expect(r.stdout).toMatch(/unused-ignore\s+warn/);
  });
  test('--explain prints the docs page', () => {
    const r = cli(['--explain', 'require-concurrent-index']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^# require-concurrent-index/);
    expect(cli(['--explain', 'nope']).code).toBe(2);
  });
});

describe('a reader that stops early', () => {
  test('`pgd-lint ... | head -1` ends quietly: no EPIPE stack trace', () => {
    // Far more output than a pipe holds, so the writer is still writing when head exits.
    const files: Record<string, string> = {};
    for (let i = 0; i < 300; i++) files[`m${i}.sql`] = 'CREATE TABLE t (a int);\nCREATE INDEX i ON t (a);\n'.repeat(5);
    const dir = tempDir(files);
    const r = spawnSync('sh', ['-c', `"${process.execPath}" "${BIN}" "${dir}" | head -1`], { cwd: ROOT, encoding: 'utf8', timeout: 60000 });
    expect(r.stdout.split('\n').filter(Boolean)).toHaveLength(1);
    expect(r.stderr).toBe('');
  });
});

describe('option parsing (audit)', () => {
  const LOCKS = { 'm/1.sql': 'CREATE TABLE t (id int PRIMARY KEY);\nLOCK TABLE t;\n' };

  test('--rule ID=SEVERITY before the paths does not swallow them', () => {
    const dir = tempDir(LOCKS);
    const r = cli(['--rule', 'no-lock-table=error', 'm', '--format', 'compact'], { cwd: dir });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('m/1.sql:2:1: error:');
  });

  test('--rule repeated: every one applies, the last one for the same id wins', () => {
    const dir = tempDir({ ...LOCKS, 'm/2.sql': 'CREATE TABLE u (a int);\n' });
    const r = cli(['--rule', 'no-lock-table=error', '--rule', 'require-primary-key=off', '--rule', 'no-lock-table=warn', 'm', '--format', 'json'], { cwd: dir });
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout).summary;
    expect(summary).toMatchObject({ errors: 0, warnings: 1 });
  });

  test('a single-valued option given twice: the last one wins', () => {
    const dir = tempDir(LOCKS);
    const r = cli(['m', '--target', 'pgd6', '--target', 'bdr1', '--format', 'compact', '--format', 'json'], { cwd: dir });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout).target).toBe('bdr1');
    expect(cli(['m', '--max-warnings', '5', '--max-warnings', '0'], { cwd: dir }).code).toBe(1);
  });

  test('an option without its value is a usage error (exit 2, one line)', () => {
    const dir = tempDir(LOCKS);
    for (const opt of ['--max-warnings', '--rule', '--target', '--config', '--explain']) {
      const r = cli(['m', opt], { cwd: dir });
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe(`pgd-lint: ${opt}: missing value\n`);
    }
    const r = cli(['m', '--bogus-flag'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('pgd-lint: unknown option --bogus-flag (see --help)\n');
  });
});
