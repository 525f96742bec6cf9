/**
 * --fix, --fix-dry-run and --verify through the built CLI, as users run them: what is printed,
 * what is written (atomically, keeping the mode), what is never touched, and the README's
 * before/after, which must stay the CLI's real output.
 */
import * as fs from 'fs';
import * as path from 'path';
import { ROOT, cli, tempDir } from './helpers/cli';

jest.setTimeout(120000);

const V1 = 'CREATE TABLE accounts (id bigint PRIMARY KEY, email text);\n';
const V2 = '-- Accounts by e-mail.\nALTER TABLE accounts ADD CONSTRAINT accounts_email_check CHECK (email <> \'\');\nCREATE INDEX accounts_email_idx ON accounts (email);\n';
const V3 = 'ALTER TABLE accounts ADD COLUMN note text;\n';

function flywayDir(): string {
  return tempDir({ 'db/V1__accounts.sql': V1, 'db/V2__email.sql': V2, 'db/V3__note.sql': V3 });
}

function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(path.relative(dir, p));
    }
  };
  walk(dir);
  return out.sort();
}

describe('--fix-dry-run', () => {
  test('prints the unified diff and the new files, and writes nothing', () => {
    const dir = flywayDir();
    const before = listFiles(dir);
    const r = cli(['--runner', 'flyway', '--fix-dry-run', 'db'], { cwd: dir });
    expect(r.stdout).toContain('--- a/db/V2__email.sql\n+++ b/db/V2__email.sql\n');
    expect(r.stdout).toContain("-ALTER TABLE accounts ADD CONSTRAINT accounts_email_check CHECK (email <> '');\n-CREATE INDEX accounts_email_idx ON accounts (email);\n+ALTER TABLE accounts ADD CONSTRAINT accounts_email_check CHECK (email <> '') NOT VALID;\n");
    expect(r.stdout).toContain('--- /dev/null\n+++ b/db/V2.1__email_pgd_lint_step1.sql\n');
    expect(r.stdout).toContain('+ALTER TABLE accounts VALIDATE CONSTRAINT accounts_email_check;\n');
    expect(r.stdout).toContain('+CREATE INDEX CONCURRENTLY accounts_email_idx ON accounts (email);\n');
    expect(r.stdout).toContain('+++ b/db/V2.2__email_pgd_lint_step2.sql.conf\n@@ -0,0 +1,1 @@\n+executeInTransaction=false\n');
    expect(r.stdout.endsWith('New files:\n  db/V2.1__email_pgd_lint_step1.sql\n  db/V2.2__email_pgd_lint_step2.sql\n  db/V2.2__email_pgd_lint_step2.sql.conf\n')).toBe(true);
    expect(listFiles(dir)).toEqual(before);
    expect(fs.readFileSync(path.join(dir, 'db/V2__email.sql'), 'utf8')).toBe(V2);
    expect(r.code).toBe(1); // the findings are still there: nothing was fixed
  });
});

describe('--fix', () => {
  test('rewrites in place, writes the new migrations, lists every file written, keeps the mode; a second --fix changes nothing', () => {
    const dir = flywayDir();
    const v2 = path.join(dir, 'db/V2__email.sql');
    fs.chmodSync(v2, 0o640);
    const r = cli(['--runner', 'flyway', '--fix', 'db'], { cwd: dir });
    expect(r.stderr).toBe(
      [
        'pgd-lint: wrote db/V2__email.sql',
        'pgd-lint: wrote db/V2.1__email_pgd_lint_step1.sql',
        'pgd-lint: wrote db/V2.2__email_pgd_lint_step2.sql',
        'pgd-lint: wrote db/V2.2__email_pgd_lint_step2.sql.conf',
        '',
      ].join('\n'),
    );
    expect(r.code).toBe(0);
    expect(fs.readFileSync(v2, 'utf8')).toBe("-- Accounts by e-mail.\nALTER TABLE accounts ADD CONSTRAINT accounts_email_check CHECK (email <> '') NOT VALID;\n");
    expect(fs.statSync(v2).mode & 0o777).toBe(0o640);
    expect(fs.readFileSync(path.join(dir, 'db/V2.2__email_pgd_lint_step2.sql.conf'), 'utf8')).toBe('executeInTransaction=false\n');
    // No temporary file is left behind.
    expect(listFiles(dir).filter((f) => f.includes('.pgd-lint-'))).toEqual([]);
    const snapshot = listFiles(dir).map((f) => [f, fs.readFileSync(path.join(dir, f), 'utf8')]);
    const again = cli(['--runner', 'flyway', '--fix', 'db'], { cwd: dir });
    expect({ code: again.code, stderr: again.stderr }).toEqual({ code: 0, stderr: '' });
    expect(listFiles(dir).map((f) => [f, fs.readFileSync(path.join(dir, f), 'utf8')])).toEqual(snapshot);
  });

  test('a read-only file is refused before anything is written: every file untouched, exit 2 naming it as given', () => {
    const dir = tempDir({ 'm/0001_a.sql': 'CREATE INDEX a_idx ON a (x);\n', 'm/0002_b.sql': 'CREATE INDEX b_idx ON b (x);\n' });
    const ro = path.join(dir, 'm/0002_b.sql');
    fs.chmodSync(ro, 0o444);
    const r = cli(['--fix', 'm'], { cwd: dir });
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 2, stderr: 'pgd-lint: m/0002_b.sql: cannot write: read-only file (nothing was written)\n' });
    expect(fs.readFileSync(path.join(dir, 'm/0001_a.sql'), 'utf8')).toBe('CREATE INDEX a_idx ON a (x);\n');
    expect(fs.readFileSync(ro, 'utf8')).toBe('CREATE INDEX b_idx ON b (x);\n');
    expect(fs.statSync(ro).mode & 0o777).toBe(0o444);
    expect(listFiles(dir)).toEqual(['m/0001_a.sql', 'm/0002_b.sql']);
  });

  test('a symlinked migration is rewritten through the link: the target changes, the link stays', () => {
    const dir = tempDir({ 'shared/0001_idx.sql': 'CREATE INDEX i ON t (a);\n', 'm/.keep': '' });
    fs.symlinkSync(path.join('..', 'shared', '0001_idx.sql'), path.join(dir, 'm/0001_idx.sql'));
    const r = cli(['--fix', 'm'], { cwd: dir });
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: 'pgd-lint: wrote m/0001_idx.sql\n' });
    expect(fs.lstatSync(path.join(dir, 'm/0001_idx.sql')).isSymbolicLink()).toBe(true);
    expect(fs.readFileSync(path.join(dir, 'shared/0001_idx.sql'), 'utf8')).toBe('CREATE INDEX CONCURRENTLY i ON t (a);\n');
    expect(listFiles(dir).filter((f) => f.includes('.pgd-lint-'))).toEqual([]);
  });

  test('a comment between a statement and its semicolon: the steps go after the semicolon, the file still parses', () => {
    const dir = tempDir({ 'm/0001_seq.sql': 'CREATE SEQUENCE s -- invoice numbers\n;\nSELECT 1;\n' });
    const r = cli(['--target', 'bdr3.6', '--fix', 'm'], { cwd: dir });
    expect(r.stderr).toBe('pgd-lint: wrote m/0001_seq.sql\n');
    expect(fs.readFileSync(path.join(dir, 'm/0001_seq.sql'), 'utf8')).toBe("CREATE SEQUENCE s -- invoice numbers\n;\nSELECT bdr.alter_sequence_set_kind('s'::regclass, 'galloc');\nSELECT 1;\n");
    const again = cli(['--target', 'bdr3.6', 'm', '--format', 'json'], { cwd: dir });
    expect(JSON.parse(again.stdout).files[0].findings).toEqual([]);
  });

  test('never touches a file with a syntax error, and says why', () => {
    const text = 'CREATE INDEX a_idx ON a (x);\nSELEC 1;\n';
    const dir = tempDir({ 'm/1.sql': text });
    const r = cli(['--fix', 'm'], { cwd: dir });
    expect(fs.readFileSync(path.join(dir, 'm/1.sql'), 'utf8')).toBe(text);
    expect(r.stderr).toContain('pgd-lint: m/1.sql:1: not rewritten (require-concurrent-index): the file has a syntax error\n');
    expect(r.code).toBe(1);
  });

  test('--verify: proves the rewrite on an embedded PostgreSQL before writing', () => {
    const dir = flywayDir();
    const r = cli(['--runner', 'flyway', '--fix', '--verify', 'db'], { cwd: dir });
    expect(r.stderr).toContain('pgd-lint: --verify (PGlite (embedded PostgreSQL)): the original and the fixed migrations give the same schema\n');
    expect(r.stderr).toContain('pgd-lint: wrote db/V2__email.sql\n');
    expect(r.code).toBe(0);
  });

  test('--verify on bdr1: BDR 1 sequence syntax (CREATE / ALTER SEQUENCE ... USING bdr) is replayed without it', () => {
    const sql = 'CREATE SEQUENCE invoice_no;\nALTER SEQUENCE invoice_no USING bdr;\nCREATE SEQUENCE ticket_no USING bdr;\n';
    const dir = tempDir({ 'm/1.sql': sql });
    const r = cli(['--target', 'bdr1', '--fix', '--verify', 'm'], { cwd: dir });
    expect(r.stderr).toContain('pgd-lint: --verify (PGlite (embedded PostgreSQL)): the original and the fixed migrations give the same schema\n');
    expect(r.stderr).toContain('pgd-lint: wrote m/1.sql\n');
    expect(fs.readFileSync(path.join(dir, 'm/1.sql'), 'utf8')).toContain('SET LOCAL bdr.permit_ddl_locking = true;\nALTER SEQUENCE invoice_no USING bdr;');
  });

  test('--verify: when the migrations cannot be replayed, nothing is written and the exit code is 1', () => {
    const dir = tempDir({ 'm/1.sql': 'CREATE INDEX a_idx ON a (x);\n' });
    const r = cli(['--fix', '--verify', 'm'], { cwd: dir });
    expect(r.stderr).toContain('pgd-lint: --verify (PGlite (embedded PostgreSQL)): the original migrations do not run: m/1.sql:1:1: relation "a" does not exist\n');
    expect(r.stderr).toContain('pgd-lint: nothing was written because --verify failed\n');
    expect(fs.readFileSync(path.join(dir, 'm/1.sql'), 'utf8')).toBe('CREATE INDEX a_idx ON a (x);\n');
    expect(r.code).toBe(1);
  });
});

describe('README', () => {
  test('the "Before / after" section is the real output of the command it shows', () => {
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const section = /## Before \/ after\n([\s\S]*?)(?=\n## )/.exec(readme);
    expect(section).not.toBeNull();
    const blocks = [...section![1].matchAll(/```(\w*)\n([\s\S]*?)```/g)].map((m) => ({ lang: m[1], body: m[2] }));
    const command = blocks.find((b) => b.lang === 'sh')!.body.trim();
    const shown = blocks.find((b) => b.lang === 'diff')!.body;
    expect(command.startsWith('npx pgd-lint ')).toBe(true);
    const r = cli(command.replace(/^npx pgd-lint /, '').split(/\s+/), { cwd: ROOT });
    expect(shown).toBe(r.stdout);
  });
});
