/**
 * How the CLI starts: from the single-file build (scripts/bundle.js) with its V8 code cache when
 * both are fresh, from the compiled modules when the build is stale or missing; the same findings
 * either way, and every rule of rules/ in the bundle.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { BIN, ROOT, cli } from './helpers/cli';

const BAD = 'CREATE INDEX orders_created_idx ON orders (created_at);\nALTER TABLE orders ADD COLUMN seen_at timestamptz DEFAULT now();\n';

function run(bin: string, args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, FORCE_COLOR: '0', PGD_LINT_DEBUG_CACHE: '1' },
    timeout: 60000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const made: string[] = [];
afterAll(() => {
  for (const d of made) fs.rmSync(d, { recursive: true, force: true });
});

/** A copy of bin/ and dist/ with node_modules linked, to change the build without touching ours. */
function copyOfPackage(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pgd-lint-start-'));
  made.push(dir);
  fs.cpSync(path.join(ROOT, 'bin'), path.join(dir, 'bin'), { recursive: true });
  fs.cpSync(path.join(ROOT, 'dist'), path.join(dir, 'dist'), { recursive: true, preserveTimestamps: true });
  fs.copyFileSync(path.join(ROOT, 'package.json'), path.join(dir, 'package.json'));
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
  fs.symlinkSync(path.join(ROOT, 'docs'), path.join(dir, 'docs'));
  fs.symlinkSync(path.join(ROOT, 'data'), path.join(dir, 'data'));
  return dir;
}

describe('start-up', () => {
  let sql: string;
  beforeAll(() => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pgd-lint-start-sql-'));
    made.push(dir);
    sql = path.join(dir, 'V2__orders.sql');
    fs.writeFileSync(sql, BAD);
  });

  test('the built CLI runs from the bundle and V8 takes its code cache', () => {
    const r = run(BIN, [sql, '--format', 'compact']);
    expect(r.stderr).toContain('code cache: used');
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(':1:1: error:');
    expect(r.stdout).toContain('[require-concurrent-index]');
    expect(r.stdout).toContain(':2:1: error:');
    expect(r.stdout).toContain('[no-add-column-volatile-default]');
  });

  test('the bundle holds every rule of rules/', () => {
    const listed = cli(['--list-rules']).stdout;
    const ids = fs
      .readdirSync(path.join(ROOT, 'rules'))
      .filter((f) => f.endsWith('.ts'))
      .map((f) => f.replace(/\.ts$/, ''));
    expect(ids.length).toBeGreaterThanOrEqual(21);
    for (const id of ids) expect(listed).toMatch(new RegExp(`^  ${id} `, 'm'));
  });

  test('a stale bundle (tsc ran after it) or a missing one is not used; findings are the same', () => {
    const dir = copyOfPackage();
    const bin = path.join(dir, 'bin', 'pgd-lint.js');
    const fresh = run(bin, [sql, '--format', 'json']);
    expect(fresh.stderr).toContain('code cache: used');

    const later = new Date(Date.now() + 60_000);
    fs.utimesSync(path.join(dir, 'dist', 'src', 'cli.js'), later, later);
    const stale = run(bin, [sql, '--format', 'json']);
    expect(stale.stderr).not.toContain('code cache');
    expect(stale.code).toBe(fresh.code);
    expect(stale.stdout).toBe(fresh.stdout);

    fs.rmSync(path.join(dir, 'dist', 'src', 'cli.bundle.js'));
    const missing = run(bin, [sql, '--format', 'json']);
    expect(missing.stderr).not.toContain('code cache');
    expect(missing.stdout).toBe(fresh.stdout);
  });

  test('a cache older than its bundle is not read', () => {
    const dir = copyOfPackage();
    const bin = path.join(dir, 'bin', 'pgd-lint.js');
    const bundle = path.join(dir, 'dist', 'src', 'cli.bundle.js');
    const later = new Date(Date.now() + 60_000);
    fs.utimesSync(bundle, later, later);
    fs.utimesSync(path.join(dir, 'dist', 'src', 'cli.js'), new Date(0), new Date(0));
    const r = run(bin, [sql, '--format', 'compact']);
    expect(r.stderr).toContain('code cache: none');
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('[require-concurrent-index]');
  });
});
