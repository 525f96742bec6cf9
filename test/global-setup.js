/**
 * Starts a throwaway PostgreSQL server for the schema-comparison tests when none is given in
 * PGD_LINT_TEST_PG: the machine's own binaries (pg_config --bindir), run as the `postgres` user,
 * on a socket in a temp folder. Without binaries the tests that need it say so loudly.
 */
const { execFileSync, spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

module.exports = async function globalSetup() {
  if (process.env.PGD_LINT_TEST_PG) return;
  let bindir;
  try {
    bindir = execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim();
  } catch {
    bindir = '';
  }
  if (!bindir || !fs.existsSync(path.join(bindir, 'initdb'))) {
    // Debian keeps the server binaries per major version.
    const root = '/usr/lib/postgresql';
    const versions = fs.existsSync(root) ? fs.readdirSync(root).filter((v) => fs.existsSync(path.join(root, v, 'bin', 'initdb'))) : [];
    versions.sort((a, b) => Number(a) - Number(b));
    if (versions.length > 0) bindir = path.join(root, versions[versions.length - 1], 'bin');
  }
  if (!bindir || !fs.existsSync(path.join(bindir, 'initdb'))) {
    process.env.PGD_LINT_TEST_PG_UNAVAILABLE = 'no PostgreSQL server binaries (pg_config --bindir) on this machine';
    return;
  }
  const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const run = (cmd, args) => (asRoot ? spawnSync('runuser', ['-u', 'postgres', '--', cmd, ...args], { encoding: 'utf8' }) : spawnSync(cmd, args, { encoding: 'utf8' }));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pgd-lint-pg-'));
  if (asRoot) execFileSync('chown', ['postgres', dir]);
  const port = 20000 + Math.floor(Math.random() * 20000);
  const init = run(path.join(bindir, 'initdb'), ['-D', path.join(dir, 'data'), '-A', 'trust', '-U', 'postgres']);
  if (init.status !== 0) {
    process.env.PGD_LINT_TEST_PG_UNAVAILABLE = `initdb failed: ${init.stderr || init.stdout}`;
    return;
  }
  const start = run(path.join(bindir, 'pg_ctl'), ['-D', path.join(dir, 'data'), '-l', path.join(dir, 'server.log'), '-w', '-t', '60', '-o', `-k ${dir} -p ${port} -c listen_addresses='' -c fsync=off`, 'start']);
  if (start.status !== 0) {
    process.env.PGD_LINT_TEST_PG_UNAVAILABLE = `pg_ctl start failed: ${start.stderr || start.stdout}`;
    return;
  }
  process.env.PGD_LINT_TEST_PG = `postgresql://postgres@/postgres?host=${encodeURIComponent(dir)}&port=${port}`;
  process.env.PGD_LINT_TEST_PG_STARTED = JSON.stringify({ bindir, dir, asRoot });
};
