/**
 * Hostile input through the built CLI, as a subprocess with a timeout: whatever the input, the
 * CLI ends (it is never killed by the timeout), exits 0, 1 or 2 as the contract says, shows no
 * stack trace, and an error names the file (and line:column where it has one). Then --fix when
 * a file cannot be written or the process is killed in the middle of writing, and the seeded
 * mutation fuzzer (scripts/fuzz.js) for a bounded number of cases.
 *
 * A test marked `test.failing` shows a bug in src/ that is not fixed yet: it passes while the bug
 * is there; when the bug is fixed it fails, and the `.failing` goes.
 */
import { ChildProcess, execFileSync, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import { createRequire } from 'module';
import * as path from 'path';
import { BIN, ROOT, tempDir } from './helpers/cli';

jest.setTimeout(120000);

const AS_ROOT = typeof process.getuid === 'function' && process.getuid() === 0;
const RUNUSER = ['/usr/sbin/runuser', '/sbin/runuser', '/usr/bin/runuser', '/bin/runuser'].find((p) => fs.existsSync(p));
/** Root reads and writes anything: permission tests run the CLI as `nobody` through runuser. */
const PERMISSIONS_TESTABLE = !AS_ROOT || RUNUSER !== undefined;
if (!PERMISSIONS_TESTABLE && process.env.CI === 'true') {
  throw new Error('running as root without runuser: the permission tests cannot drop privileges (install util-linux or run as a normal user)');
}
const permissionTest = PERMISSIONS_TESTABLE ? test : test.skip;
const NOBODY = AS_ROOT && RUNUSER ? { uid: Number(execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' })), gid: Number(execFileSync('id', ['-g', 'nobody'], { encoding: 'utf8' })) } : undefined;

/** A stack trace, an internal error, or the parser's own fatal output. */
const CRASH = /^\s+at \S|\b\w*Error: |internal error|node:internal|FATAL|TopMemoryContext|Aborted\(/m;

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
  error?: Error;
}

/** Runs the CLI (as `nobody` when asked and running as root) with a timeout. */
function run(args: string[], opts: { cwd?: string; input?: string | Buffer; timeout?: number; unprivileged?: boolean } = {}): Run {
  const env: NodeJS.ProcessEnv = { ...process.env, FORCE_COLOR: '0' };
  delete env.PGD_LINT_DEBUG;
  const asNobody = opts.unprivileged && AS_ROOT;
  const [cmd, argv] = asNobody ? [RUNUSER!, ['-u', 'nobody', '--', process.execPath, BIN, ...args]] : [process.execPath, [BIN, ...args]];
  const t0 = Date.now();
  const r = spawnSync(cmd, argv, {
    cwd: opts.cwd ?? ROOT,
    input: opts.input ?? '',
    encoding: 'utf8',
    env,
    timeout: opts.timeout ?? 60000,
    maxBuffer: 256 * 1024 * 1024,
  });
  return { code: r.status, signal: r.signal, stdout: r.stdout ?? '', stderr: r.stderr ?? '', ms: Date.now() - t0, error: r.error };
}

/** Ended by itself with one of `codes`, no stack trace; exit 2 is one `pgd-lint: ` line. */
function expectSane(r: Run, codes: number[]): void {
  const problems: string[] = [];
  if (r.error) problems.push(`did not end normally (timeout?): ${r.error.message}`);
  if (r.signal) problems.push(`killed by ${r.signal}`);
  if (r.code === null || !codes.includes(r.code)) problems.push(`exit code ${r.code}, expected ${codes.join(' or ')}`);
  if (CRASH.test(r.stderr)) problems.push('a stack trace or internal error on standard error');
  if (r.code === 2 && !/^pgd-lint: [^\n]+\n$/.test(r.stderr)) problems.push('exit 2 without a one-line "pgd-lint: " message');
  if (problems.length > 0) problems.push(`stderr: ${r.stderr.slice(0, 2000)}`, `stdout: ${r.stdout.slice(0, 2000)}`);
  expect(problems).toEqual([]);
}

interface JsonFinding {
  ruleId: string;
  line: number;
  column: number;
}
interface JsonReport {
  files: Array<{ path: string; findings: JsonFinding[] }>;
  summary: { files: number; errors: number; warnings: number };
}

function report(r: Run): JsonReport {
  return JSON.parse(r.stdout) as JsonReport;
}

const where = (rep: JsonReport): string[] => rep.files.flatMap((f) => f.findings.map((x) => `${path.basename(f.path)}:${x.line}:${x.column} ${x.ruleId}`));

/** mulberry32: the same seed always gives the same bytes. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function garbageBytes(seed: number, n: number): Buffer {
  const next = prng(seed);
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(next() * 256);
  return b;
}

/** Valid UTF-8 that is not SQL: controls, NUL, quotes, backslashes, astral and bidi characters. */
function garbageText(seed: number, n: number): string {
  const next = prng(seed);
  const alphabet = ['\0', '\t', '\n', '\r', "'", '"', '$', '$$', '\\', ';', '(', ')', '/*', '*/', '--', 'E\'', 'U&', '\u202e', '\ufeff', '😀', 'é', '\u2028', 'SELECT', 'CREATE', 'INDEX', 'ON', ' '];
  let s = '';
  while (s.length < n) s += next() < 0.5 ? alphabet[Math.floor(next() * alphabet.length)] : String.fromCodePoint(Math.floor(next() * 0xd7ff));
  return s;
}

/** Line and column (characters) where the first invalid UTF-8 sequence starts. */
function firstInvalid(bytes: Buffer): { line: number; column: number } {
  expect(bytes.includes(Buffer.from([0xef, 0xbf, 0xbd]))).toBe(false); // no literal U+FFFD to confuse the search
  const text = bytes.toString('utf8');
  const bad = text.indexOf('\ufffd');
  expect(bad).toBeGreaterThanOrEqual(0);
  const before = text.slice(0, bad);
  const lineStart = before.lastIndexOf('\n') + 1;
  return { line: before.split('\n').length, column: [...before.slice(lineStart)].length + 1 };
}

/** A temp folder `nobody` can enter and read (mkdtemp makes it 0700). */
function sharedDir(files: Record<string, string | Buffer> = {}): string {
  const dir = tempDir(files);
  const open = (d: string): void => {
    fs.chmodSync(d, 0o755);
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) open(p);
      else if (e.isFile()) fs.chmodSync(p, 0o644);
    }
  };
  open(dir);
  return dir;
}

/** Makes `p` belong to the user the unprivileged runs use (nobody when running as root). */
function giveToRunner(p: string): void {
  if (NOBODY) fs.chownSync(p, NOBODY.uid, NOBODY.gid);
}

describe('files that are empty, odd or not text', () => {
  test('an empty file, a file of comments only and a BOM alone: exit 0, no findings', () => {
    const dir = tempDir({
      'empty.sql': '',
      'comments.sql': '-- one\n/* two /* nested */ still two */\n-- pgd-lint: nothing here\n   \n\t\n',
      'bom.sql': '\ufeff',
    });
    for (const name of ['empty.sql', 'comments.sql', 'bom.sql']) {
      const r = run([name, '--format', 'json'], { cwd: dir });
      expectSane(r, [0]);
      expect(r.stderr).toBe('');
      expect(report(r).files).toEqual([{ path: name, findings: [] }]);
    }
  });

  test('a BOM and CRLF line ends do not shift positions; a lone CR is no line break', () => {
    const dir = tempDir({
      'bom.sql': '\ufeffCREATE INDEX i ON t (a);\n',
      'crlf.sql': 'SELECT 1;\r\n\r\nCREATE INDEX i ON t (a);\r\n',
      'cr.sql': 'SELECT 1;\rCREATE INDEX i ON t (a);\r',
    });
    const r = run(['bom.sql', 'crlf.sql', 'cr.sql', '--format', 'json'], { cwd: dir });
    expectSane(r, [1]);
    expect(where(report(r))).toEqual(['bom.sql:1:1 require-concurrent-index', 'crlf.sql:3:1 require-concurrent-index', 'cr.sql:1:11 require-concurrent-index']);
  });

  test('NUL bytes are blanks: they hide nothing that follows them', () => {
    const dir = tempDir({ 'nul.sql': 'SELECT 1 \0; CREATE INDEX i ON t (a);\n\0\0\nCREATE INDEX j ON t (b);\n' });
    const r = run(['nul.sql', '--format', 'json'], { cwd: dir });
    expectSane(r, [1]);
    expect(where(report(r))).toEqual(['nul.sql:1:13 require-concurrent-index', 'nul.sql:3:1 require-concurrent-index']);
  });

  test('invalid UTF-8: exit 2, one line naming file:line:column and the byte', () => {
    const cases: Array<[string, Buffer, string]> = [
      ['lone-continuation', Buffer.from('SELECT 1;\n\x80;\n', 'latin1'), '2:1: not UTF-8 text (invalid byte 0x80)'],
      ['truncated-in-line', Buffer.concat([Buffer.from("SELECT 'é"), Buffer.from([0xc3]), Buffer.from("';\n")]), '1:10: not UTF-8 text (invalid byte 0xc3)'],
      ['overlong', Buffer.concat([Buffer.from('a\nb\n'), Buffer.from([0xc0, 0x80])]), '3:1: not UTF-8 text (invalid byte 0xc0)'],
      ['surrogate', Buffer.concat([Buffer.from('x'), Buffer.from([0xed, 0xa0, 0x80])]), '1:2: not UTF-8 text (invalid byte 0xed)'],
      ['truncated-at-end', Buffer.concat([Buffer.from('SELECT 1;\n--'), Buffer.from([0xe2, 0x82])]), '2:3: not UTF-8 text (invalid byte 0xe2)'],
      ['crlf', Buffer.concat([Buffer.from('SELECT 1;\r\nSELECT 2;\r\n'), Buffer.from([0xff])]), '3:1: not UTF-8 text (invalid byte 0xff)'],
    ];
    const dir = tempDir(Object.fromEntries(cases.map(([name, bytes]) => [`${name}.sql`, bytes])));
    for (const [name, , msg] of cases) {
      const r = run([`${name}.sql`], { cwd: dir });
      expectSane(r, [2]);
      expect(r.stderr).toBe(`pgd-lint: ${name}.sql:${msg}\n`);
      expect(r.stdout).toBe('');
    }
  });

  // Bug: the column of the first invalid byte counts UTF-16 code units (src/input.ts
  // firstInvalidUtf8 uses String length), where findings count characters (code points):
  // every astral character before it on the line adds one. Here it says 1:11.
  test('invalid UTF-8 after an emoji: the column counts characters', () => {
    const dir = tempDir({ 'emoji.sql': Buffer.concat([Buffer.from("SELECT '😀"), Buffer.from([0xff]), Buffer.from("';\n")]) });
    const r = run(['emoji.sql'], { cwd: dir });
    expectSane(r, [2]);
    expect(r.stderr).toBe('pgd-lint: emoji.sql:1:10: not UTF-8 text (invalid byte 0xff)\n');
  });

  test('binary garbage (seeded bytes): exit 2 naming file:line:column; as a file, in a folder, on --stdin', () => {
    for (const seed of [1, 2, 3]) {
      // Text first (its last line ends before the bytes), so that the first bad byte is further in.
      const bytes = Buffer.concat([Buffer.from(`${garbageText(seed, 300 * seed)}\n`), garbageBytes(seed, 64 * 1024)]);
      const at = firstInvalid(bytes);
      const dir = tempDir({ 'garbage.sql': bytes, 'folder/ok.sql': 'SELECT 1;\n', 'folder/garbage.sql': bytes });
      const msg = new RegExp(`^pgd-lint: (folder/)?garbage\\.sql:${at.line}:${at.column}: not UTF-8 text \\(invalid byte 0x[0-9a-f]{2}\\)\\n$`);
      for (const args of [['garbage.sql'], ['folder']]) {
        const r = run(args, { cwd: dir });
        expectSane(r, [2]);
        expect(r.stderr).toMatch(msg);
      }
      const stdin = run(['--stdin'], { input: bytes });
      expectSane(stdin, [2]);
      expect(stdin.stderr).toMatch(new RegExp(`^pgd-lint: <stdin>:${at.line}:${at.column}: not UTF-8 text \\(invalid byte 0x[0-9a-f]{2}\\)\\n$`));
      const named = run(['--stdin', '--stdin-filename', 'db/V9__x.sql'], { input: bytes });
      expectSane(named, [2]);
      expect(named.stderr).toMatch(new RegExp(`^pgd-lint: db/V9__x\\.sql:${at.line}:${at.column}: not UTF-8`));
    }
  });

  test('text garbage (seeded, valid UTF-8): exit 0 or 1, a report that holds together', () => {
    for (const seed of [11, 12, 13, 14]) {
      const text = garbageText(seed, 20000);
      const lines = text.split('\n').length;
      const dir = tempDir({ 'g.sql': text });
      for (const r of [run(['g.sql', '--format', 'json'], { cwd: dir }), run(['--stdin', '--stdin-filename', 'g.sql', '--format', 'json'], { input: text })]) {
        expectSane(r, [0, 1]);
        const rep = report(r);
        expect(rep.files.map((f) => f.path)).toEqual(['g.sql']);
        for (const x of rep.files[0].findings) {
          expect(x.line).toBeGreaterThanOrEqual(1);
          expect(x.line).toBeLessThanOrEqual(lines);
          expect(x.column).toBeGreaterThanOrEqual(1);
        }
        expect(r.code).toBe(rep.summary.errors > 0 ? 1 : 0);
      }
    }
  });

  test('a folder with a good file and a file that is not UTF-8: exit 2 naming the bad one', () => {
    const dir = tempDir({ 'm/0001_good.sql': 'CREATE TABLE t (id bigint PRIMARY KEY);\n', 'm/0002_latin1.sql': Buffer.from("-- caf\xe9\nSELECT 'na\xefve';\n", 'latin1') });
    const r = run(['m'], { cwd: dir });
    expectSane(r, [2]);
    expect(r.stderr).toBe(`pgd-lint: ${path.join('m', '0002_latin1.sql')}:1:7: not UTF-8 text (invalid byte 0xe9)\n`);
  });
});

describe('unterminated quotes and comments: a syntax error where it starts, exit 1', () => {
  const cases: Array<[string, string, string]> = [
    ['quote', "SELECT 1;\nCREATE INDEX i ON t (a);\nSELECT 'abc;\nSELECT 2;\n", "'"],
    ['dollar', 'SELECT 1;\nCREATE INDEX i ON t (a);\nSELECT $body$abc;\nSELECT 2;\n', '$body$'],
    ['comment', 'SELECT 1;\nCREATE INDEX i ON t (a);\nSELECT /* abc;\nSELECT 2;\n', '/*'],
  ];
  test.each(cases)('unterminated %s', (name, text, opener) => {
    const dir = tempDir({ [`${name}.sql`]: text });
    const r = run([`${name}.sql`, '--format', 'json'], { cwd: dir });
    expectSane(r, [1]);
    expect(where(report(r))).toEqual([`${name}.sql:2:1 require-concurrent-index`, `${name}.sql:3:8 syntax-error`]);
    expect(text.split('\n')[2].slice(7).startsWith(opener)).toBe(true);
  });

  // Bug: libpg-query's cursorPosition counts characters, but src/parser.ts (parseError, and the
  // lexical-error prefix in scan) reads it as a UTF-8 byte offset: every multi-byte character of
  // the statement before the error moves the error back by a byte. Here the errors land on
  // line 1 (1:19 for the quotes, 1:25 for FROM) instead of line 2.
  test('the position stays right after non-ASCII text in the same statement', () => {
    const texts: Record<string, string> = {
      'q.sql': "SELECT 'éééééééééé' AS x,\n  'abc;\n",
      'd.sql': "SELECT 'éééééééééé' AS x,\n  $$abc;\n",
      'c.sql': "SELECT 'éééééééééé' AS x,\n  /* abc;\n",
      'f.sql': "SELECT 'éééééééééé' AS x,\n  1 FROM;\n",
    };
    const dir = tempDir(texts);
    const r = run(Object.keys(texts).concat('--format', 'json'), { cwd: dir });
    expectSane(r, [1]);
    expect(where(report(r))).toEqual(['q.sql:2:3 syntax-error', 'd.sql:2:3 syntax-error', 'c.sql:2:3 syntax-error', 'f.sql:2:9 syntax-error']);
  });
});

describe('size and depth', () => {
  // One parse of a file this size exhausts libpg-query's WebAssembly memory (1 GB): big files are
  // parsed in pieces (src/parser.ts), so every statement is linted and nothing reaches stderr.
  test('a 50 MB file: linted in full (a finding on its last line), nothing on stderr', () => {
    const dir = tempDir({});
    const file = path.join(dir, 'big.sql');
    const fd = fs.openSync(file, 'w');
    let size = 0;
    let lines = 1;
    let chunk = 'CREATE TABLE big (id bigint PRIMARY KEY, name text, n int);\n';
    for (let i = 0; size < 50 * 1024 * 1024; i++) {
      chunk += `INSERT INTO big (id, name, n) VALUES (${i}, 'name number ${i} padding padding', ${i % 1000});\n`;
      lines++;
      if (chunk.length > 1 << 20) {
        size += fs.writeSync(fd, chunk);
        chunk = '';
      }
    }
    chunk += 'CREATE INDEX late_idx ON existing_table (a);\n';
    lines++;
    fs.writeSync(fd, chunk);
    fs.closeSync(fd);
    const r = run(['big.sql', '--format', 'json'], { cwd: dir, timeout: 120000 });
    fs.rmSync(dir, { recursive: true, force: true });
    expectSane(r, [1]);
    expect(r.stderr).toBe('');
    expect(where(report(r))).toEqual([`big.sql:${lines}:1 require-concurrent-index`]);
  }, 150000);

  test('10,000 statements in one file: all linted, the last one reported on its line', () => {
    let text = '';
    for (let i = 0; i < 2500; i++) {
      text += `CREATE TABLE t_${i} (id bigint PRIMARY KEY, a int);\nCREATE INDEX t_${i}_a ON t_${i} (a);\nALTER TABLE t_${i} ADD COLUMN b int;\nINSERT INTO t_${i} (id, a) VALUES (${i}, ${i});\n`;
    }
    text += 'CREATE INDEX late_idx ON existing_table (a);\n';
    const dir = tempDir({ 'many.sql': text });
    const r = run(['many.sql', '--format', 'json'], { cwd: dir });
    expectSane(r, [1]);
    expect(where(report(r))).toEqual(['many.sql:10001:1 require-concurrent-index']);
  });

  test('5,000-deep parentheses and other deep input the grammar takes or refuses: no crash, the next statement still linted', () => {
    const next = '\nCREATE INDEX i ON t (a);\n';
    const texts: Record<string, string> = {
      'parens.sql': `SELECT ${'('.repeat(5000)}1${')'.repeat(5000)};`,
      'default.sql': `ALTER TABLE t ADD COLUMN z int DEFAULT ${'('.repeat(5000)}random()${')'.repeat(5000)};`,
      'unbalanced.sql': `SELECT 1;\nSELECT ${'('.repeat(5000)}1;`,
      // Deeper than the grammar's stack (bison's "memory exhausted"): a syntax error, not a crash.
      'too-deep.sql': `SELECT ${'('.repeat(50000)}1${')'.repeat(50000)};`,
      // A left-deep tree of 10,000 additions: the parser gives up (reported as a syntax error).
      'additions.sql': `SELECT ${Array(10000).fill('1').join(' + ')};`,
    };
    const dir = tempDir(Object.fromEntries(Object.entries(texts).map(([k, v]) => [k, v + next])));
    const r = run(['parens.sql', 'default.sql', 'unbalanced.sql', 'too-deep.sql', 'additions.sql', '--format', 'json'], { cwd: dir });
    expectSane(r, [1]);
    const found = where(report(r));
    expect(found).toContain('parens.sql:2:1 require-concurrent-index');
    expect(found).toContain('default.sql:1:1 no-add-column-volatile-default');
    expect(found).toContain('default.sql:2:1 require-concurrent-index');
    // Unbalanced: the statement runs to the end of the file (psql would wait for the `)`).
    expect(found.filter((f) => f.startsWith('unbalanced.sql'))).toEqual(['unbalanced.sql:2:5009 syntax-error']);
    expect(found).toContain('too-deep.sql:2:1 require-concurrent-index');
    expect(found).toContain('additions.sql:2:1 require-concurrent-index');
    expect(found.filter((f) => / syntax-error$/.test(f)).map((f) => f.split(':')[0])).toEqual(['unbalanced.sql', 'too-deep.sql', 'additions.sql']);
  });

  // Bug: expression trees the parser accepts but the rules' recursive walkers do not: the CLI
  // prints "pgd-lint: internal error: Maximum call stack size exceeded" and exits 2, naming no
  // file, and nothing is reported. Nested -( ) 2,500 deep in a column DEFAULT overflows the
  // volatility Analyzer (src/volatility.ts, visit/aExpr); nested CASE 1,000 deep in an index
  // expression overflows tempReferences (src/temp-objects.ts, visit).
  test('deep expression trees the parser accepts: linted, no internal error', () => {
    const dir = tempDir({
      'negate.sql': `ALTER TABLE t ADD COLUMN z int DEFAULT ${'-('.repeat(2500)}random()${')'.repeat(2500)};\n`,
      'case.sql': `CREATE INDEX j ON t ((${'CASE WHEN a THEN '.repeat(1000)}1${' END'.repeat(1000)}));\n`,
    });
    const r = run(['negate.sql', 'case.sql', '--format', 'json'], { cwd: dir });
    expectSane(r, [1]);
    expect(where(report(r))).toEqual(['negate.sql:1:1 no-add-column-volatile-default', 'case.sql:1:1 require-concurrent-index']);
  });
});

describe('paths that are not regular files', () => {
  test('a directory named x.sql: linted as a folder when given, skipped by folder walks and globs', () => {
    const dir = tempDir({ 'm/0001_good.sql': 'SELECT 1;\n', 'm/x.sql/.keep': '', 'n/x.sql/0002_inner.sql': 'CREATE INDEX i ON t (a);\n' });
    const given = run([path.join('n', 'x.sql'), '--format', 'json'], { cwd: dir });
    expectSane(given, [1]);
    expect(report(given).files.map((f) => f.path)).toEqual([path.join('n', 'x.sql', '0002_inner.sql')]);
    const empty = run([path.join('m', 'x.sql'), '--format', 'json'], { cwd: dir });
    expectSane(empty, [0]);
    expect(report(empty).files).toEqual([]);
    for (const args of [['m'], ['m/*.sql']]) {
      const r = run([...args, '--format', 'json'], { cwd: dir });
      expectSane(r, [0]);
      expect(report(r).files.map((f) => f.path)).toEqual([path.join('m', '0001_good.sql')]);
    }
  });

  test('a symlink loop: given, exit 2 naming it; inside a folder or a glob, left out without a crash', () => {
    const dir = tempDir({ 'm/0001_good.sql': 'SELECT 1;\n' });
    fs.symlinkSync('0003_b.sql', path.join(dir, 'm', '0002_a.sql'));
    fs.symlinkSync('0002_a.sql', path.join(dir, 'm', '0003_b.sql'));
    const given = run([path.join('m', '0002_a.sql')], { cwd: dir });
    expectSane(given, [2]);
    expect(given.stderr).toBe(`pgd-lint: ${path.join('m', '0002_a.sql')}: too many levels of symbolic links\n`);
    for (const args of [['m'], ['m/*.sql']]) {
      const r = run([...args, '--format', 'json'], { cwd: dir });
      expectSane(r, [0, 2]);
      if (r.code === 2) expect(r.stderr).toMatch(/0002_a\.sql: .*symbolic links/);
      else expect(report(r).files.map((f) => f.path)).toEqual([path.join('m', '0001_good.sql')]);
    }
  });

  // Bug: a folder walk leaves out every symlinked *.sql file (fast-glob with
  // followSymbolicLinks: false and onlyFiles in src/input.ts collectFiles), without a word: the
  // migration is not linted and the run passes. A glob over the same folder lints it.
  test('a symlinked migration inside a folder is linted, as the glob does', () => {
    const dir = tempDir({ 'shared/0002_idx.sql': 'CREATE INDEX i ON t (a);\n', 'm/0001_good.sql': 'SELECT 1;\n' });
    fs.symlinkSync(path.join('..', 'shared', '0002_idx.sql'), path.join(dir, 'm', '0002_idx.sql'));
    const glob = run(['m/*.sql', '--format', 'json'], { cwd: dir });
    expectSane(glob, [1]);
    expect(where(report(glob))).toEqual(['0002_idx.sql:1:1 require-concurrent-index']);
    const folder = run(['m', '--format', 'json'], { cwd: dir });
    expectSane(folder, [1]);
    expect(where(report(folder))).toEqual(['0002_idx.sql:1:1 require-concurrent-index']);
  });

  permissionTest('an unreadable file: exit 2 naming it, given or inside a folder', () => {
    const dir = sharedDir({ 'm/0001_good.sql': 'SELECT 1;\n', 'm/0002_secret.sql': 'SELECT 2;\n' });
    fs.chmodSync(path.join(dir, 'm', '0002_secret.sql'), 0o000);
    const given = run([path.join('m', '0002_secret.sql')], { cwd: dir, unprivileged: true });
    expectSane(given, [2]);
    expect(given.stderr).toBe(`pgd-lint: ${path.join('m', '0002_secret.sql')}: cannot read file: permission denied\n`);
    const folder = run(['m'], { cwd: dir, unprivileged: true });
    expectSane(folder, [2]);
    expect(folder.stderr).toBe(`pgd-lint: ${path.join('m', '0002_secret.sql')}: cannot read file: permission denied\n`);
    // The check itself: the unprivileged user does read the readable file.
    const good = run([path.join('m', '0001_good.sql')], { cwd: dir, unprivileged: true });
    expectSane(good, [0]);
  });

  // Bug: fast-glob runs with suppressErrors (src/input.ts collectFiles), so a sub-folder that
  // cannot be read is skipped without a word: its migrations are not linted and the run exits 0.
  permissionTest('an unreadable sub-folder of a linted folder: exit 2 naming it', () => {
    const dir = sharedDir({ 'm/0001_good.sql': 'SELECT 1;\n', 'm/sub/0002_idx.sql': 'CREATE INDEX i ON t (a);\n' });
    fs.chmodSync(path.join(dir, 'm', 'sub'), 0o000);
    const r = run(['m'], { cwd: dir, unprivileged: true });
    fs.chmodSync(path.join(dir, 'm', 'sub'), 0o755);
    expectSane(r, [2]);
    expect(r.stderr).toMatch(/m\/sub\b.*permission denied/);
  });
});

describe('--fix when a file cannot be written', () => {
  const TEXT = 'CREATE INDEX i ON t (a);\n';

  permissionTest('in a folder the user cannot write: the file is untouched, exit 2 with one line naming it', () => {
    const dir = sharedDir({ 'm/0001_idx.sql': TEXT });
    const file = path.join(dir, 'm', '0001_idx.sql');
    if (!AS_ROOT) fs.chmodSync(path.dirname(file), 0o555);
    const r = run(['--fix', path.join('m', '0001_idx.sql')], { cwd: dir, unprivileged: true });
    fs.chmodSync(path.dirname(file), 0o755);
    expectSane(r, [2]);
    expect(r.stderr).toMatch(/^pgd-lint: \S*m\/0001_idx\.sql: cannot write/);
    expect(fs.readFileSync(file, 'utf8')).toBe(TEXT);
    expect(fs.readdirSync(path.dirname(file))).toEqual(['0001_idx.sql']);
  });

  // Bug: writeAtomic (src/fixio.ts) writes a temporary file and renames it over the target, so a
  // read-only file (mode 0444) in a folder the user may write is replaced (and stays 0444):
  // `pgd-lint --fix m/0001_idx.sql` prints "pgd-lint: wrote m/0001_idx.sql" and exits 0.
  permissionTest('a read-only file (0444) in a writable folder: untouched, exit 2 with one line naming it', () => {
    const dir = sharedDir({ 'm/0001_idx.sql': TEXT });
    const file = path.join(dir, 'm', '0001_idx.sql');
    giveToRunner(path.dirname(file));
    giveToRunner(file);
    fs.chmodSync(file, 0o444);
    const r = run(['--fix', path.join('m', '0001_idx.sql')], { cwd: dir, unprivileged: true });
    expect(fs.readFileSync(file, 'utf8')).toBe(TEXT);
    expectSane(r, [2]);
    expect(r.stderr).toMatch(/^pgd-lint: \S*m\/0001_idx\.sql: .*(read-only|permission|cannot write)/);
  });
});

describe('--fix killed in the middle of writing', () => {
  const COUNT = 200;
  const name = (i: number): string => `${String(i).padStart(4, '0')}_ix.sql`;

  function project(): string {
    const files: Record<string, string> = {};
    let tables = '';
    for (let i = 1; i <= COUNT; i++) {
      tables += `CREATE TABLE t_${i} (id bigint PRIMARY KEY, a int);\n`;
      files[`m/${name(i)}`] = `-- index ${i}\nCREATE INDEX ix_${i} ON t_${i} (a);\n`;
    }
    files[`m/${name(0)}`] = tables;
    return tempDir(files);
  }

  function contents(dir: string): Map<string, string> {
    const m = path.join(dir, 'm');
    return new Map(fs.readdirSync(m).map((f) => [f, fs.readFileSync(path.join(m, f), 'utf8')]));
  }

  function killedFix(dir: string, delayMs: number): Promise<{ killed: boolean; code: number | null }> {
    return new Promise((resolve, reject) => {
      const env: NodeJS.ProcessEnv = { ...process.env, FORCE_COLOR: '0' };
      const child: ChildProcess = spawn(process.execPath, [BIN, '--fix', 'm'], { cwd: dir, env, stdio: 'ignore' });
      let killed = false;
      let timer: NodeJS.Timeout | undefined;
      // The first change in the folder is the first temporary file: the writing has begun.
      const watcher = fs.watch(path.join(dir, 'm'), () => {
        if (timer || killed) return;
        timer = setTimeout(() => {
          killed = child.kill('SIGKILL');
        }, delayMs);
      });
      const safety = setTimeout(() => child.kill('SIGKILL'), 60000);
      child.on('error', reject);
      child.on('exit', (code, signal) => {
        watcher.close();
        clearTimeout(safety);
        if (timer) clearTimeout(timer);
        resolve({ killed: signal === 'SIGKILL', code });
      });
    });
  }

  test('every .sql file is its original or its fixed text; leftovers are not linted; a second --fix finishes the job', async () => {
    const first = project();
    const original = contents(first);
    fs.rmSync(first, { recursive: true, force: true });
    // What --fix writes: checked with --fix-dry-run, then computed in full in a copy.
    const dry = project();
    const preview = run(['--fix-dry-run', 'm'], { cwd: dry });
    expectSane(preview, [1]);
    expect(preview.stdout.match(/^\+\+\+ b\//gm)).toHaveLength(COUNT);
    expect(preview.stdout).toContain(`-CREATE INDEX ix_1 ON t_1 (a);\n+CREATE INDEX CONCURRENTLY ix_1 ON t_1 (a);\n`);
    const full = run(['--fix', 'm'], { cwd: dry });
    expectSane(full, [0]);
    const fixed = contents(dry);
    expect([...fixed.keys()].sort()).toEqual([...original.keys()].sort());
    expect(fixed.get(name(0))).toBe(original.get(name(0)));
    for (let i = 1; i <= COUNT; i++) expect(fixed.get(name(i))).toBe(`-- index ${i}\nCREATE INDEX CONCURRENTLY ix_${i} ON t_${i} (a);\n`);

    const next = prng(20240607);
    const delays = [0, 2, 5, ...Array.from({ length: 4 }, () => Math.floor(next() * 150))];
    let interrupted = 0;
    for (const delay of delays) {
      const dir = project();
      const outcome = await killedFix(dir, delay);
      const after = contents(dir);
      let done = 0;
      for (const [f, text] of after) {
        if (original.has(f)) {
          expect({ f, delay, ok: text === original.get(f) || text === fixed.get(f) }).toEqual({ f, delay, ok: true });
          if (text !== original.get(f)) done++;
        } else {
          // A temporary file of a write that was cut short: hidden, and not a migration.
          expect(f).toMatch(/^\.\d{4}_ix\.sql\.pgd-lint-[^/]*\.tmp$/);
          expect(f.endsWith('.sql')).toBe(false);
        }
      }
      for (const f of original.keys()) expect(after.has(f)).toBe(true);
      if (outcome.killed && done > 0 && done < COUNT) interrupted++;
      // The next run does not see the leftovers, and finishes the rewrite.
      const again = run(['--fix', 'm', '--format', 'json'], { cwd: dir });
      expectSane(again, [0]);
      expect(report(again).files.map((f) => path.basename(f.path)).sort()).toEqual([...original.keys()].sort());
      expect(again.stderr.split('\n').filter((l) => l !== '')).toHaveLength(COUNT - done);
      const final = contents(dir);
      for (const [f, text] of fixed) expect({ f, same: final.get(f) === text }).toEqual({ f, same: true });
      fs.rmSync(dir, { recursive: true, force: true });
    }
    fs.rmSync(dry, { recursive: true, force: true });
    // At least one trial really cut the writing short (otherwise this test proves little).
    expect(interrupted).toBeGreaterThan(0);
  });
});

describe('found by the fuzzer (npm run fuzz -- --seed 2, 3, 99)', () => {
  // Bug: the grammar takes an index column with an operator class and a parameter list without
  // values, `(a o (x))`; no-concurrent-in-transaction deparses the statement for its message
  // (src/sqlgen.ts deparse, pgsql-deparser) and the deparser throws: "pgd-lint: internal error:
  // Error deparsing IndexStmt: Cannot convert undefined or null to object", exit 2, no report.
  test('an index column with opclass parameters, in a transaction: reported, no internal error', () => {
    const dir = tempDir({ 'm.sql': 'BEGIN;\nCREATE INDEX CONCURRENTLY ix ON t (a o (x));\nCOMMIT;\n' });
    const r = run(['m.sql', '--format', 'json'], { cwd: dir });
    expectSane(r, [1]);
    expect(where(report(r))).toEqual(['m.sql:2:1 no-concurrent-in-transaction']);
  });

  // Bug: a PL/pgSQL function without a body (the grammar takes it; PostgreSQL refuses it when it
  // runs), once the session has a temporary object (or the statement names pg_temp), goes to
  // libpg-query's PL/pgSQL parser (no-temp-object-in-ddl), which aborts: "Aborted(Assertion
  // failed: proc_source != NULL, at: src/pg_query_parse_plpgsql.c,434,
  // compile_create_function_stmt_via_callback)" on stderr. The run goes on (the rest is linted),
  // but stderr says it crashed.
  test('a PL/pgSQL function without a body: nothing on stderr', () => {
    const dir = tempDir({ 'f.sql': 'CREATE TEMP TABLE tt (a int);\nCREATE FUNCTION f() RETURNS void LANGUAGE plpgsql;\nCREATE INDEX i ON t (a);\n' });
    const r = run(['f.sql', '--format', 'json'], { cwd: dir });
    expectSane(r, [1]);
    expect(r.stderr).toBe('');
    expect(where(report(r))).toEqual(['f.sql:3:1 require-concurrent-index']);
  });

  // Bug (seed 3, case 3549): require-global-sequence's fix appends `;\nSELECT
  // bdr.alter_sequence_set_kind(...)` at the end of the statement's span, which runs to the `;` and
  // so takes in a comment before it: the `;` lands inside the line comment, and the file --fix
  // writes is one statement, `CREATE SEQUENCE s SELECT ...`, a syntax error.
  test('--fix keeps a file parseable when a comment sits between a statement and its semicolon', () => {
    const dir = tempDir({ 'm/0001_seq.sql': 'CREATE SEQUENCE s -- invoice numbers\n;\n' });
    const fixed = run(['--target', 'bdr3.6', '--fix', 'm'], { cwd: dir });
    expectSane(fixed, [0, 1]);
    expect(fs.readFileSync(path.join(dir, 'm', '0001_seq.sql'), 'utf8')).toContain('alter_sequence_set_kind');
    const after = run(['--target', 'bdr3.6', 'm', '--format', 'json'], { cwd: dir });
    expectSane(after, [0, 1]);
    expect(where(report(after)).filter((f) => f.endsWith('syntax-error'))).toEqual([]);
  });
});

describe('the seeded mutation fuzzer (scripts/fuzz.js)', () => {
  interface FuzzReport {
    seed: number;
    cases: number;
    cliCases: number;
    failures: Array<{ case: number; kind: string; report: string }>;
    stats: { inProcess: number; cli: number; syntaxError: number; withFindings: number; clean: number; fixPlanned: number; cliExit: Record<string, number> };
  }
  interface Rng {
    next(): number;
    int(lo: number, hi: number): number;
    pick<T>(xs: T[]): T;
    chance(p: number): boolean;
  }
  interface FuzzApi {
    runFuzz(opts: { seed: number; cases: number; cliCases: number }): Promise<FuzzReport>;
    loadScanner(): Promise<unknown>;
    splitTokens(text: string): { head: string; parts: string[] };
    mutate(text: string, rng: Rng, donors?: string[], ops?: string[]): string;
    caseRng(seed: number, n: number): Rng;
    loadCorpus(): Array<{ path: string; text: string }>;
  }
  // Plain CommonJS without types, loaded by Node itself (as `npm run fuzz` runs it).
  const fuzz = createRequire(__filename)(path.join(ROOT, 'scripts', 'fuzz.js')) as FuzzApi;

  test('tokens cut every fixture and example back into its exact text; mutations are seeded', async () => {
    await fuzz.loadScanner();
    const corpus = fuzz.loadCorpus();
    expect(corpus.length).toBeGreaterThan(100);
    expect(corpus.some((c) => c.path.startsWith('examples'))).toBe(true);
    for (const c of corpus) {
      const { head, parts } = fuzz.splitTokens(c.text);
      expect({ path: c.path, same: head + parts.join('') === c.text }).toEqual({ path: c.path, same: true });
    }
    const text = corpus.find((c) => Buffer.byteLength(c.text) !== c.text.length)?.text ?? corpus[0].text;
    const a = Array.from({ length: 20 }, (_, i) => fuzz.mutate(text, fuzz.caseRng(7, i), [corpus[1].text]));
    const b = Array.from({ length: 20 }, (_, i) => fuzz.mutate(text, fuzz.caseRng(7, i), [corpus[1].text]));
    expect(a).toEqual(b);
    expect(a.filter((m) => m !== text).length).toBeGreaterThan(15);
    expect(new Set(a).size).toBeGreaterThan(15);
  });

  test('300 cases in process and 20 through the CLI (fixed seed): no failure', async () => {
    const r = await fuzz.runFuzz({ seed: 20240601, cases: 300, cliCases: 20 });
    expect(r.failures.map((f) => f.report)).toEqual([]);
    expect(r.stats.inProcess).toBe(300);
    expect(r.stats.cli).toBe(20);
    // The cases reach the rules and --fix, not only the syntax-error path.
    expect(r.stats.withFindings).toBeGreaterThan(50);
    expect(r.stats.fixPlanned).toBeGreaterThan(20);
    expect(r.stats.syntaxError).toBeGreaterThan(20);
  }, 180000);
});
