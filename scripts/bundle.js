#!/usr/bin/env node
'use strict';
/**
 * The single-file build the CLI starts from (`npm run build` runs it after tsc): dist/src/cli.bundle.js
 * holds the compiled pipeline, every rule of rules/ and the small libraries a run needs (yargs,
 * fast-glob, chalk, diff, pgsql-deparser). Loading one file instead of some 160 modules is most of
 * a cold start (see the README's benchmark). esbuild does the bundling: a maintained bundler, not
 * code of our own.
 *
 * It sits in dist/src/ beside cli.js so that every path the code builds from __dirname (package.json,
 * docs/, data/) is the same in both. Packages that load files of their own at run time (the WASM of
 * libpg-query and PGlite) or are needed only by rarely used commands stay outside and are required
 * from node_modules as usual. bin/pgd-lint.js falls back to dist/src/cli.js when the bundle is not
 * there.
 */
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const esbuild = require('esbuild');

const ROOT = path.join(__dirname, '..');
const DIST = path.join(ROOT, 'dist');
const OUT = path.join(DIST, 'src', 'cli.bundle.js');
const CACHE = path.join(DIST, 'src', 'cli.bundle.cache');

const EXTERNAL = [
  'libpg-query', // loads its .wasm from its own folder
  '@electric-sql/pglite', // --verify only; loads its own WASM and data files
  'ajv', // only when a config file is read
  'vscode-languageserver',
  'vscode-languageserver/node',
  'vscode-languageserver-textdocument', // pgd-lint lsp only
];

function main() {
  const rulesDir = path.join(DIST, 'rules');
  if (!fs.existsSync(path.join(DIST, 'src', 'cli.js'))) throw new Error('dist/src/cli.js is missing: run tsc first');
  const rules = fs
    .readdirSync(rulesDir)
    .filter((f) => f.endsWith('.js'))
    .sort();
  // The entry: the registry gets every rule module of rules/ as it is when the bundle is built.
  const lines = [
    "'use strict';",
    "const registry = require('./registry.js');",
    'const rules = [];',
    ...rules.map((f) => `rules.push(require(${JSON.stringify(`../rules/${f}`)}).rule);`),
    'registry.registerRules(rules.filter((r) => r && r.meta && r.meta.id));',
    "module.exports = require('./cli.js');",
    '',
  ];
  const entry = path.join(DIST, 'src', '.cli.bundle-entry.js');
  fs.writeFileSync(entry, lines.join('\n'));
  try {
    const result = esbuild.buildSync({
      entryPoints: [entry],
      outfile: OUT,
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      external: EXTERNAL,
      logLevel: 'silent',
      legalComments: 'none',
    });
    for (const w of result.warnings) process.stderr.write(`bundle: warning: ${w.text}\n`);
  } finally {
    fs.rmSync(entry, { force: true });
  }
  writeCodeCache();
}

/**
 * The V8 code cache of the bundle (bin/pgd-lint.js reads it): made by one lint of examples/ with
 * this Node, so that it holds the functions a run compiles. Without it the CLI still works, only
 * its start is slower.
 */
function writeCodeCache() {
  fs.rmSync(CACHE, { force: true });
  const examples = path.join(ROOT, 'examples');
  if (!fs.existsSync(examples)) return;
  const r = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'pgd-lint.js'), examples, '--no-color'], {
    cwd: ROOT,
    env: { ...process.env, PGD_LINT_WRITE_CODE_CACHE: '1' },
    stdio: ['ignore', 'ignore', 'pipe'],
    timeout: 120000,
  });
  if (r.status !== 0 && r.status !== 1) process.stderr.write(`bundle: no code cache (lint of examples/ exited ${r.status}): ${String(r.stderr).split('\n')[0]}\n`);
}

try {
  main();
} catch (e) {
  const errors = e && Array.isArray(e.errors) ? e.errors.map((x) => x.text).join('; ') : e.message;
  process.stderr.write(`bundle: ${errors}\n`);
  process.exitCode = 2;
}
