/**
 * pre-commit, end to end with the real `pre-commit` tool (Debian package `pre-commit`): the
 * repository's .pre-commit-hooks.yaml is valid, and a hook built from it blocks a commit of a bad
 * migration and lets a good one through. The hook runs the built CLI (a `repo: local` hook: a remote
 * `repo:` would need the network to clone and `npm install`).
 */
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import YAML from 'yaml';
import { BIN, ROOT, tempDir } from './helpers/cli';

const HOOKS_FILE = path.join(ROOT, '.pre-commit-hooks.yaml');

interface Hook {
  id: string;
  name: string;
  entry: string;
  language: string;
  files: string;
  types: string[];
  require_serial?: boolean;
  description?: string;
}

function preCommitVersion(): string | undefined {
  try {
    return execFileSync('pre-commit', ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  } catch {
    return undefined;
  }
}

const VERSION = preCommitVersion();
if (!VERSION) {
  if (process.env.CI) {
    throw new Error('pre-commit is not installed, and CI is set: .ci/run installs the Debian package pre-commit; install it (apt-get install pre-commit)');
  }
  console.warn(
    '\n*** SKIPPING the pre-commit end-to-end tests: the `pre-commit` tool is not installed (Debian: apt-get install pre-commit). ' +
      'They run (and must pass) in CI. ***\n',
  );
}
const withPreCommit = VERSION ? describe : describe.skip;

function hooks(): Hook[] {
  return YAML.parse(fs.readFileSync(HOOKS_FILE, 'utf8')) as Hook[];
}

describe('.pre-commit-hooks.yaml', () => {
  test('parses and declares the pgd-lint hook for .sql files', () => {
    const list = hooks();
    expect(Array.isArray(list)).toBe(true);
    const hook = list.find((h) => h.id === 'pgd-lint');
    expect(hook).toBeDefined();
    expect(hook).toMatchObject({ id: 'pgd-lint', language: 'node', entry: 'pgd-lint', types: ['file'], require_serial: true });
    const files = new RegExp(hook!.files);
    expect(files.test('db/migrations/V1__init.sql')).toBe(true);
    expect(files.test('README.md')).toBe(false);
    expect(files.test('V1.sql.conf')).toBe(false);
    // The entry is the package's own executable.
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
    expect(Object.keys(pkg.bin)).toContain(hook!.entry);
  });
});

withPreCommit('pre-commit, end to end', () => {
  const env = (dir: string): NodeJS.ProcessEnv => ({
    ...process.env,
    PRE_COMMIT_HOME: path.join(dir, '.pre-commit-home'),
    PRE_COMMIT_COLOR: 'never',
    GIT_AUTHOR_NAME: 'Test',
    GIT_AUTHOR_EMAIL: 'test@example.com',
    GIT_COMMITTER_NAME: 'Test',
    GIT_COMMITTER_EMAIL: 'test@example.com',
  });

  /** Runs a command in `dir`; pre-commit keeps its cache under `home` (never in this checkout). */
  function run(dir: string, cmd: string, args: string[], home = dir): { code: number | null; out: string } {
    const r = spawnSync(cmd, args, { cwd: dir, env: env(home), encoding: 'utf8', timeout: 120000 });
    return { code: r.status, out: `${r.stdout}${r.stderr}` };
  }

  test('pre-commit itself validates the manifest', () => {
    const r = run(ROOT, 'pre-commit', ['validate-manifest', HOOKS_FILE], tempDir());
    expect(r.out).toBe('');
    expect(r.code).toBe(0);
  });

  test('a bad migration blocks the commit, a good one passes', () => {
    const hook = hooks().find((h) => h.id === 'pgd-lint')!;
    const dir = tempDir();
    fs.mkdirSync(path.join(dir, '.pre-commit-home'));
    // The published hook, run from this checkout: the same id, files, types and serial run, the
    // built CLI as entry (shlex-quoted for pre-commit).
    expect(BIN).not.toMatch(/["\\$`]/);
    const local = {
      repos: [
        {
          repo: 'local',
          hooks: [{ ...hook, entry: `"${process.execPath}" "${BIN}"`, language: 'system' }],
        },
      ],
    };
    fs.writeFileSync(path.join(dir, '.pre-commit-config.yaml'), YAML.stringify(local));
    expect(run(dir, 'git', ['init', '-q', '-b', 'main']).code).toBe(0);
    expect(run(dir, 'pre-commit', ['validate-config', '.pre-commit-config.yaml']).code).toBe(0);
    const install = run(dir, 'pre-commit', ['install']);
    expect(install.code).toBe(0);
    expect(fs.existsSync(path.join(dir, '.git', 'hooks', 'pre-commit'))).toBe(true);

    // A non-SQL file alone: the hook is skipped.
    fs.writeFileSync(path.join(dir, 'README.md'), '# app\n');
    run(dir, 'git', ['add', '.pre-commit-config.yaml', 'README.md']);
    const readme = run(dir, 'git', ['commit', '-q', '-m', 'readme']);
    expect(readme.out).toMatch(/pgd-lint\.+\(no files to check\)Skipped/);
    expect(readme.code).toBe(0);

    // A table without a primary key: blocked, with the finding in the output.
    fs.mkdirSync(path.join(dir, 'db'));
    fs.writeFileSync(path.join(dir, 'db', 'V1__orders.sql'), 'CREATE TABLE orders (id bigint, total numeric);\n');
    run(dir, 'git', ['add', 'db/V1__orders.sql']);
    const bad = run(dir, 'git', ['commit', '-q', '-m', 'bad migration']);
    expect(bad.code).not.toBe(0);
    expect(bad.out).toMatch(/pgd-lint\.+Failed/);
    expect(bad.out).toContain('require-primary-key');
    expect(bad.out).toContain(path.join('db', 'V1__orders.sql'));
    expect(run(dir, 'git', ['log', '--format=%s']).out.trim()).toBe('readme');

    // Fixed: the commit goes through.
    fs.writeFileSync(path.join(dir, 'db', 'V1__orders.sql'), 'CREATE TABLE orders (id bigint PRIMARY KEY, total numeric);\n');
    run(dir, 'git', ['add', 'db/V1__orders.sql']);
    const good = run(dir, 'git', ['commit', '-q', '-m', 'good migration']);
    expect(good.out).toMatch(/pgd-lint\.+Passed/);
    expect(good.code).toBe(0);
    expect(run(dir, 'git', ['log', '--format=%s']).out.trim().split('\n')).toEqual(['good migration', 'readme']);

    // A later migration on a table of an earlier one: pre-commit passes only the staged file.
    fs.writeFileSync(path.join(dir, 'db', 'V2__index.sql'), 'CREATE INDEX orders_total ON orders (total);\n');
    run(dir, 'git', ['add', 'db/V2__index.sql']);
    const index = run(dir, 'git', ['commit', '-q', '-m', 'index']);
    expect(index.code).not.toBe(0);
    expect(index.out).toContain('require-concurrent-index');
    expect(index.out).not.toContain('V1__orders.sql');
  });
});
