#!/usr/bin/env node
'use strict';
const fs = require('fs');
const path = require('path');

// A reader that stops early (`pgd-lint ... | head`) closes the pipe: end quietly, as other CLIs do.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err) => {
    if (err && err.code === 'EPIPE') process.exit(process.exitCode || 0);
    throw err;
  });
}

// A lint run is short: the parser's WebAssembly runs on V8's baseline compiler only. Optimising it
// in the background would not pay back within the run, and the process would wait for those
// compile jobs before it can exit (about 100 ms of every cold start). The language server lives
// long, so it keeps the optimising tier.
if (process.argv[2] !== 'lsp') require('v8').setFlagsFromString('--liftoff-only');

/**
 * Loads the single-file build (scripts/bundle.js) with the V8 code cache that the build made for
 * it (cli.bundle.cache): the code is not compiled again on every start. A cache made by another
 * Node version is rejected by V8 and the code is compiled as usual. PGD_LINT_WRITE_CODE_CACHE=1
 * (the build) writes the cache when the run ends; PGD_LINT_DEBUG_CACHE=1 says on stderr whether V8
 * took it.
 */
function loadBundle(file, builtAt) {
  const vm = require('vm');
  const Module = require('module');
  const cacheFile = file.replace(/\.js$/, '.cache');
  let cachedData;
  try {
    // Made after the bundle it belongs to, or it is stale.
    if (fs.statSync(cacheFile).mtimeMs >= builtAt) cachedData = fs.readFileSync(cacheFile);
  } catch {
    cachedData = undefined;
  }
  const script = new vm.Script(Module.wrap(fs.readFileSync(file, 'utf8')), { filename: file, cachedData });
  // For the tests: whether V8 took the cache.
  if (process.env.PGD_LINT_DEBUG_CACHE === '1') process.stderr.write(`code cache: ${cachedData ? (script.cachedDataRejected ? 'rejected' : 'used') : 'none'}\n`);
  const mod = { exports: {}, filename: file, id: file, loaded: false };
  script.runInThisContext().call(mod.exports, mod.exports, Module.createRequire(file), mod, file, path.dirname(file));
  mod.loaded = true;
  if (process.env.PGD_LINT_WRITE_CODE_CACHE === '1') {
    process.once('exit', () => {
      const tmp = `${cacheFile}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, script.createCachedData());
      fs.renameSync(tmp, cacheFile);
    });
  }
  return mod.exports;
}

/** The bundle's time when it is there and newer than what tsc last wrote (else it is stale). */
function bundleTime(bundle, cli) {
  try {
    const t = fs.statSync(bundle).mtimeMs;
    return t >= fs.statSync(cli).mtimeMs ? t : undefined;
  } catch {
    return undefined;
  }
}

const dist = path.join(__dirname, '..', 'dist', 'src');
const bundle = path.join(dist, 'cli.bundle.js');
const cli = path.join(dist, 'cli.js');
const built = bundleTime(bundle, cli);
(built !== undefined ? loadBundle(bundle, built) : require(cli))
  .main(process.argv.slice(2))
  .then((code) => {
    process.exitCode = code;
  });
