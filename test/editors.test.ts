/**
 * The editor paths: `--stdin --stdin-filename PATH` replays the file's neighbours so that a finding
 * in the editor equals the finding in CI, and every recipe of docs/editors.md parses real output.
 */
import * as fs from 'fs';
import * as path from 'path';
import { cli, tempDir } from './helpers/cli';

interface JsonFinding {
  ruleId: string;
  severity: string;
  message: string;
  line: number;
  column: number;
}

function findingsOf(stdout: string, file: string): JsonFinding[] {
  const report = JSON.parse(stdout) as { files: Array<{ path: string; findings: JsonFinding[] }> };
  const f = report.files.find((x) => x.path === file);
  if (!f) throw new Error(`no report for ${file} in ${stdout}`);
  return f.findings.map(({ ruleId, severity, message, line, column }) => ({ ruleId, severity, message, line, column }));
}

describe('--stdin --stdin-filename replays the neighbours', () => {
  const FIRST = 'CREATE TABLE orders (id bigint PRIMARY KEY, code varchar(10));\n';
  const SECOND = 'CREATE INDEX orders_code_idx ON orders (code);\nALTER TABLE orders ALTER COLUMN code TYPE varchar(20);\n';

  test('a table created in file 1 and indexed in file 2: the same findings as linting the folder', () => {
    const dir = tempDir({ 'dir/001.sql': FIRST, 'dir/002.sql': SECOND });
    const folder = cli(['dir', '--format', 'json'], { cwd: dir });
    const editor = cli(['--stdin', '--stdin-filename', 'dir/002.sql', '--format', 'json'], { cwd: dir, input: SECOND });
    expect(editor.stderr).toBe('');
    const expected = findingsOf(folder.stdout, 'dir/002.sql');
    expect(expected.map((f) => f.ruleId)).toEqual(['require-concurrent-index']);
    expect(expected[0].message).toContain('existing table "orders"');
    expect(findingsOf(editor.stdout, 'dir/002.sql')).toEqual(expected);
    // Only the piped file is reported: the neighbours are replayed, not linted.
    expect(JSON.parse(editor.stdout).files.map((f: { path: string }) => f.path)).toEqual(['dir/002.sql']);
    expect(editor.code).toBe(folder.code);
  });

  test('without the neighbours the column type is unknown (what the replay is for)', () => {
    const dir = tempDir({ 'alone/002.sql': SECOND });
    const r = cli(['--stdin', '--stdin-filename', 'alone/002.sql', '--format', 'json'], { cwd: dir, input: SECOND });
    expect(findingsOf(r.stdout, 'alone/002.sql').map((f) => f.ruleId)).toEqual(['require-concurrent-index', 'no-rewriting-alter-type']);
  });

  test('the piped text wins over the file on disk, and a table created in the same file is new', () => {
    const dir = tempDir({ 'dir/001.sql': FIRST, 'dir/002.sql': SECOND });
    const text = 'CREATE TABLE items (id bigint PRIMARY KEY, code text);\nCREATE INDEX items_code_idx ON items (code);\n';
    const r = cli(['--stdin', '--stdin-filename', 'dir/002.sql', '--format', 'json'], { cwd: dir, input: text });
    expect(r.stderr).toBe('');
    expect(findingsOf(r.stdout, 'dir/002.sql')).toEqual([]);
    expect(r.code).toBe(0);
  });

  test('migrations applied after the file count too: a primary key added in a later file', () => {
    const files = {
      'm/001.sql': 'CREATE TABLE events (id bigint NOT NULL, body text);\n',
      'm/002.sql': 'ALTER TABLE events ADD CONSTRAINT events_pkey PRIMARY KEY (id);\n',
    };
    const dir = tempDir(files);
    const folder = cli(['m', '--format', 'json'], { cwd: dir });
    expect(findingsOf(folder.stdout, 'm/001.sql').map((f) => f.ruleId)).not.toContain('require-primary-key');
    const editor = cli(['--stdin', '--stdin-filename', 'm/001.sql', '--format', 'json'], { cwd: dir, input: files['m/001.sql'] });
    expect(findingsOf(editor.stdout, 'm/001.sql')).toEqual(findingsOf(folder.stdout, 'm/001.sql'));
    // Alone, the same file is missing its primary key.
    const alone = cli(['--stdin', '--stdin-filename', 'other/001.sql', '--format', 'json'], { cwd: tempDir({ 'other/001.sql': files['m/001.sql'] }), input: files['m/001.sql'] });
    expect(findingsOf(alone.stdout, 'other/001.sql').map((f) => f.ruleId)).toContain('require-primary-key');
  });

  test("the runner's order decides what comes before: flyway versions, not names", () => {
    // By name V1_0_1__ sorts before V1__; flyway applies version 1 before version 1.0.1.
    const files = {
      'db/V1__create.sql': 'CREATE TABLE t (id bigint PRIMARY KEY, v varchar(10));\n',
      'db/V1_0_1__alter.sql': 'ALTER TABLE t ALTER COLUMN v TYPE varchar(20);\n',
    };
    const dir = tempDir(files);
    const piped = (runner: string) =>
      findingsOf(cli(['--stdin', '--stdin-filename', 'db/V1_0_1__alter.sql', '--runner', runner, '--format', 'json'], { cwd: dir, input: files['db/V1_0_1__alter.sql'] }).stdout, 'db/V1_0_1__alter.sql');
    const folder = findingsOf(cli(['db', '--runner', 'flyway', '--format', 'json'], { cwd: dir }).stdout, 'db/V1_0_1__alter.sql');
    expect(piped('flyway')).toEqual(folder);
    expect(folder.map((f) => f.ruleId)).not.toContain('no-rewriting-alter-type');
    // plain orders by name: the table comes later, so the type change is unproven.
    expect(piped('plain').map((f) => f.ruleId)).toContain('no-rewriting-alter-type');
  });

  test('a --stdin-filename that is only a label replays nothing from its folder', () => {
    const dir = tempDir({ 'other.sql': 'CREATE TABLE t (id bigint PRIMARY KEY, v varchar(10));\n' });
    const text = 'ALTER TABLE t ALTER COLUMN v TYPE varchar(20);\n';
    const r = cli(['--stdin', '--stdin-filename', 'alembic.sql', '--format', 'json'], { cwd: dir, input: text });
    expect(findingsOf(r.stdout, 'alembic.sql').map((f) => f.ruleId)).toEqual(['no-rewriting-alter-type']);
    expect(fs.existsSync(path.join(dir, 'alembic.sql'))).toBe(false);
  });
});
