/** Stops the server global-setup.js started, if it started one. */
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

module.exports = async function globalTeardown() {
  const started = process.env.PGD_LINT_TEST_PG_STARTED;
  if (!started) return;
  const { bindir, dir, asRoot } = JSON.parse(started);
  const args = ['-D', path.join(dir, 'data'), '-m', 'immediate', 'stop'];
  if (asRoot) spawnSync('runuser', ['-u', 'postgres', '--', path.join(bindir, 'pg_ctl'), ...args]);
  else spawnSync(path.join(bindir, 'pg_ctl'), args);
  fs.rmSync(dir, { recursive: true, force: true });
};
