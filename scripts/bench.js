#!/usr/bin/env node
'use strict';
/**
 * The benchmark (`npm run bench`, after `npm run build`): lints a deterministic corpus of migration
 * files (scripts/bench-corpus.js) with the built CLI as a subprocess, as a user runs it, and prints
 * a table: whole-corpus wall time, files/s, MB/s, CPU time and peak RSS, the same for ten times the
 * files (how cost grows), the cold start of one small file, bare `node -e 0` for reference, and the
 * language server's re-lint time when scripts/bench-lsp.js is there. Every time is the median of
 * several runs.
 *
 * Usage: node scripts/bench.js [--seed N] [--files N] [--runs N] [--scale N] [--cold-runs N]
 *                              [--no-scale] [--no-lsp] [--json] [--check]
 *   --check: exit 1 when a target is missed (the targets are for the 2-core machine of the README).
 */
const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { writeCorpus } = require('./bench-corpus');

const ROOT = path.join(__dirname, '..');
const BIN = path.join(ROOT, 'bin', 'pgd-lint.js');

function parseArgs(argv) {
  const opts = { seed: 20240601, files: 3000, runs: 5, scale: 10, coldRuns: 11, lsp: true, doScale: true, json: false, check: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const num = () => {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < 1) throw new Error(`${a}: expected a whole number of 1 or more`);
      return v;
    };
    if (a === '--seed') opts.seed = num();
    else if (a === '--files') opts.files = num();
    else if (a === '--runs') opts.runs = num();
    else if (a === '--scale') opts.scale = num();
    else if (a === '--cold-runs') opts.coldRuns = num();
    else if (a === '--no-scale') opts.doScale = false;
    else if (a === '--no-lsp') opts.lsp = false;
    else if (a === '--json') opts.json = true;
    else if (a === '--check') opts.check = true;
    else throw new Error(`unknown option ${a}`);
  }
  return opts;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const TIME = fs.existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;

/**
 * Runs `node args...` with standard output to /dev/null; returns wall ms (measured here), CPU ms
 * (user + system) and peak RSS in MB (from /usr/bin/time -v, or else from a preloaded hook that
 * writes process.resourceUsage() at exit), and the exit code.
 */
function measure(args, cwd, tmp) {
  const out = fs.openSync(os.devNull, 'w');
  const stats = path.join(tmp, 'stats.txt');
  fs.rmSync(stats, { force: true });
  let cmd;
  let cmdArgs;
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  if (TIME) {
    cmd = TIME;
    cmdArgs = ['-v', '-o', stats, process.execPath, ...args];
  } else {
    const hook = path.join(tmp, 'rss-hook.js');
    fs.writeFileSync(
      hook,
      "process.on('exit', () => { const u = process.resourceUsage(); require('fs').writeFileSync(process.env.PGD_BENCH_STATS, `${u.maxRSS} ${(u.userCPUTime + u.systemCPUTime) / 1000}`); });\n",
    );
    env.PGD_BENCH_STATS = stats;
    cmd = process.execPath;
    cmdArgs = ['-r', hook, ...args];
  }
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, cmdArgs, { cwd, env, stdio: ['ignore', out, 'pipe'], maxBuffer: 64 * 1024 * 1024 });
  const wall = Number(process.hrtime.bigint() - t0) / 1e6;
  fs.closeSync(out);
  if (r.error) throw r.error;
  let rssMb = NaN;
  let cpuMs = NaN;
  let code = r.status;
  const text = fs.existsSync(stats) ? fs.readFileSync(stats, 'utf8') : '';
  if (TIME) {
    const kb = /Maximum resident set size \(kbytes\): (\d+)/.exec(text);
    const user = /User time \(seconds\): ([\d.]+)/.exec(text);
    const sys = /System time \(seconds\): ([\d.]+)/.exec(text);
    const exit = /Exit status: (\d+)/.exec(text);
    if (kb) rssMb = Number(kb[1]) / 1024;
    if (user && sys) cpuMs = (Number(user[1]) + Number(sys[1])) * 1000;
    if (exit) code = Number(exit[1]);
  } else if (text) {
    const [kb, cpu] = text.split(' ').map(Number);
    rssMb = kb / 1024;
    cpuMs = cpu;
  }
  if (code !== 0 && code !== 1) {
    throw new Error(`pgd-lint exited ${code} (expected 0 or 1): ${r.stderr.toString().split('\n').slice(0, 3).join(' | ')}`);
  }
  return { wall, cpuMs, rssMb, code };
}

function series(n, fn) {
  const runs = [];
  for (let i = 0; i < n; i++) runs.push(fn());
  return {
    wall: median(runs.map((r) => r.wall)),
    cpuMs: median(runs.map((r) => r.cpuMs)),
    rssMb: Math.max(...runs.map((r) => r.rssMb)),
    runs: runs.length,
  };
}

function machine() {
  let cpu = 'unknown';
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) cpu = m[1].trim();
  } catch {
    cpu = os.cpus()[0]?.model ?? 'unknown';
  }
  return { cpu, cores: os.cpus().length, node: process.version, date: new Date().toISOString().slice(0, 10), load: os.loadavg().map((x) => x.toFixed(2)).join(' ') };
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (!fs.existsSync(path.join(ROOT, 'dist', 'src', 'cli.js'))) throw new Error('dist/ is missing: run npm run build first');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pgd-lint-bench-'));
  const log = (s) => process.stderr.write(`${s}\n`);
  try {
    const m = machine();
    const corpus = path.join(tmp, 'corpus');
    log(`writing ${opts.files} files (seed ${opts.seed}) ...`);
    const small = writeCorpus(corpus, opts.files, opts.seed);
    const args = [BIN, corpus, '--format', 'json'];
    measure(args, tmp, tmp); // warm the file system cache
    log(`linting ${opts.files} files x ${opts.runs} ...`);
    const base = series(opts.runs, () => measure(args, tmp, tmp));

    let big;
    let bigCorpus;
    if (opts.doScale) {
      const bigDir = path.join(tmp, 'corpus-big');
      log(`writing ${opts.files * opts.scale} files ...`);
      bigCorpus = writeCorpus(bigDir, opts.files * opts.scale, opts.seed);
      fs.rmSync(corpus, { recursive: true, force: true });
      const bigArgs = [BIN, bigDir, '--format', 'json'];
      measure(bigArgs, tmp, tmp);
      log(`linting ${opts.files * opts.scale} files x ${opts.runs} ...`);
      big = series(opts.runs, () => measure(bigArgs, tmp, tmp));
      fs.rmSync(bigDir, { recursive: true, force: true });
    }

    const one = path.join(tmp, 'V1__one.sql');
    fs.writeFileSync(one, 'CREATE TABLE account (\n    id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,\n    email text NOT NULL\n);\nCREATE INDEX account_email_idx ON account (email);\n');
    measure([BIN, one, '--format', 'json'], tmp, tmp);
    log(`cold start x ${opts.coldRuns} ...`);
    const cold = series(opts.coldRuns, () => measure([BIN, one, '--format', 'json'], tmp, tmp));
    const bare = series(opts.coldRuns, () => measure(['-e', '0'], tmp, tmp));

    let lsp;
    const lspScript = path.join(__dirname, 'bench-lsp.js');
    if (opts.lsp && fs.existsSync(lspScript)) {
      log('language server re-lint ...');
      const r = spawnSync(process.execPath, [lspScript], { cwd: ROOT, encoding: 'utf8', timeout: 300000 });
      const line = (r.stdout ?? '').trim().split('\n').pop();
      try {
        lsp = JSON.parse(line).lspRelintMs;
      } catch {
        log(`scripts/bench-lsp.js gave no result (exit ${r.status}): ${(r.stderr ?? '').trim().split('\n')[0] ?? ''}`);
      }
    }

    const mb = small.bytes / 1e6;
    const rows = [];
    const row = (measureName, value, target, ok) => rows.push({ measure: measureName, value, target: target ?? '', ok });
    row(`corpus`, `${small.files} files, ${mb.toFixed(2)} MB`);
    row(`${small.files} files: wall (median of ${base.runs})`, `${(base.wall / 1000).toFixed(3)} s`, '<= 0.6 s', base.wall <= 600);
    row(`${small.files} files: files/s`, `${Math.round(small.files / (base.wall / 1000))}`);
    row(`${small.files} files: MB/s`, `${(mb / (base.wall / 1000)).toFixed(2)}`);
    row(`${small.files} files: CPU time (user + sys)`, `${(base.cpuMs / 1000).toFixed(3)} s`);
    row(`${small.files} files: peak RSS`, `${base.rssMb.toFixed(0)} MB`, '<= 200 MB', base.rssMb <= 200);
    if (big) {
      const ratio = big.wall / base.wall;
      row(`${bigCorpus.files} files (${(bigCorpus.bytes / 1e6).toFixed(1)} MB): wall (median of ${big.runs})`, `${(big.wall / 1000).toFixed(3)} s`);
      row(`${bigCorpus.files} files: files/s`, `${Math.round(bigCorpus.files / (big.wall / 1000))}`);
      row(`${bigCorpus.files} files: CPU time (user + sys)`, `${(big.cpuMs / 1000).toFixed(3)} s`);
      row(`${bigCorpus.files} files: peak RSS`, `${big.rssMb.toFixed(0)} MB`);
      row(`${opts.scale}x files: time ratio`, `${ratio.toFixed(2)}x`, `<= ${opts.scale + 1}x`, ratio <= opts.scale + 1);
    }
    row(`one small file, cold: wall (median of ${cold.runs})`, `${cold.wall.toFixed(0)} ms`, '<= 120 ms', cold.wall <= 120);
    row(`one small file, cold: peak RSS`, `${cold.rssMb.toFixed(0)} MB`);
    row(`node -e 0 (reference, median of ${bare.runs})`, `${bare.wall.toFixed(0)} ms`);
    if (lsp !== undefined) row('lspRelintMs (language server re-lint, median)', `${lsp} ms`);

    if (opts.json) {
      process.stdout.write(`${JSON.stringify({ machine: m, seed: opts.seed, rows }, null, 2)}\n`);
    } else {
      const w0 = Math.max(...rows.map((r) => r.measure.length), 7);
      const w1 = Math.max(...rows.map((r) => r.value.length), 5);
      const w2 = Math.max(...rows.map((r) => r.target.length), 6);
      const line = (a, b, c, d) => `| ${a.padEnd(w0)} | ${b.padStart(w1)} | ${c.padEnd(w2)} | ${d.padEnd(4)} |`;
      const out = [
        `Machine: ${m.cpu}, ${m.cores} cores, Node ${m.node}, ${m.date}, load average before: ${m.load}; seed ${opts.seed}`,
        '',
        line('measure', 'value', 'target', 'met'),
        `|${'-'.repeat(w0 + 2)}|${'-'.repeat(w1 + 1)}:|${'-'.repeat(w2 + 2)}|------|`,
        ...rows.map((r) => line(r.measure, r.value, r.target, r.ok === undefined ? '' : r.ok ? 'yes' : 'no')),
      ];
      process.stdout.write(`${out.join('\n')}\n`);
    }
    if (opts.check && rows.some((r) => r.ok === false)) process.exitCode = 1;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

try {
  main();
} catch (e) {
  process.stderr.write(`bench: ${e.message}\n`);
  process.exitCode = 2;
}
