#!/usr/bin/env node
'use strict';
/**
 * A seeded mutation fuzzer (`npm run fuzz`, after `npm run build`).
 *
 * The SQL files under fixtures/ and examples/ are cut into tokens by the PostgreSQL scanner
 * (libpg-query's scanSync; its offsets are UTF-8 byte offsets), and each case applies a few
 * seeded mutations to one of them: delete, duplicate or swap tokens (or whole statements), or
 * splice in a run of tokens (or statements) from another file. Every case then goes through the library as the CLI wires it (lint, then
 * planFixes and a lint of the fixed files) in this process, and every `stride`-th case also through
 * the built CLI as a subprocess. A case fails when:
 *   - in process: anything throws; a finding has an impossible position; a rewrite turns a file
 *     without syntax errors into one with syntax errors;
 *   - through the CLI: it is killed (timeout) or exits with a code other than 0, 1, 2; standard
 *     error shows a stack trace or an internal error; exit 2 without a one-line `pgd-lint:`
 *     message; the json report is not JSON, or its findings or exit code differ from the
 *     in-process run.
 * A failing case prints the seed, the case number, the settings and the mutated SQL. Every case
 * has its own random stream derived from (seed, case), so `--only K` replays case K alone.
 *
 * Usage: node scripts/fuzz.js [--seed N] [--cases N] [--cli-cases N] [--only K] [--quiet]
 * Exit codes: 0 no failure, 1 a case failed, 2 bad usage or no build.
 */
const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { prng } = require('./bench-corpus');

const ROOT = path.join(__dirname, '..');
const BIN = path.join(ROOT, 'bin', 'pgd-lint.js');
const LIB = path.join(ROOT, 'dist', 'src', 'index.js');
const FORMATS = ['stylish', 'sarif', 'compact', 'github', 'junit'];
/** A stack trace, an internal error, or the parser's own fatal output (WebAssembly abort, out of memory). */
const STACK = /^\s+at |\n\s+at |internal error|\b(?:Type|Reference|Range|Syntax)Error\b|FATAL|TopMemoryContext|Aborted\(/;

/** A 32-bit integer hash (murmur3's finaliser): every bit of the input moves every bit of the output. */
function mix32(x) {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/** A case's own random stream: the same (seed, case) always gives the same case. */
function caseRng(seed, n) {
  return prng(mix32((mix32(seed >>> 0) + Math.imul(n + 1, 0x9e3779b9)) >>> 0));
}

let pg;
/** Loads the scanner (libpg-query's WebAssembly) once. */
async function loadScanner() {
  if (!pg) {
    const mod = require('libpg-query');
    await mod.loadModule();
    pg = mod;
  }
  return pg;
}

/**
 * Cuts SQL into parts: `head` (what comes before the first token) and one part per token, each
 * holding the token and the text after it up to the next token (spaces, comments are tokens).
 * Joining head and parts gives the text back. Text the scanner rejects is cut at spaces instead.
 */
function splitTokens(text) {
  if (!pg) throw new Error('splitTokens: call loadScanner() first');
  const buf = Buffer.from(text, 'utf8');
  let tokens = null;
  try {
    tokens = text.trim() === '' ? [] : pg.scanSync(text).tokens;
  } catch {
    tokens = null;
  }
  if (!tokens || tokens.length === 0) {
    const head = /^\s*/.exec(text)[0];
    return { head, parts: text.slice(head.length).match(/\S+\s*/g) ?? [] };
  }
  const head = buf.subarray(0, tokens[0].start).toString('utf8');
  const parts = tokens.map((t, i) => buf.subarray(t.start, i + 1 < tokens.length ? tokens[i + 1].start : buf.length).toString('utf8'));
  return { head, parts };
}

const MUTATIONS = ['delete', 'duplicate', 'swap', 'splice'];

/** Groups parts into statements: each ends with its `;` part (and what follows it). */
function statements(parts) {
  const out = [];
  let cur = '';
  for (const p of parts) {
    cur += p;
    if (p.startsWith(';')) {
      out.push(cur);
      cur = '';
    }
  }
  if (cur !== '') out.push(cur);
  return out;
}

/**
 * Applies 1 to 4 seeded mutations to `text`, on tokens or (half of the time) on whole statements,
 * which keeps more cases free of syntax errors and so reaches the rules and --fix. `donors`: other
 * texts to splice from (default: the text itself). Returns the mutated text; `ops` (when given)
 * receives a description of each mutation.
 */
function mutate(text, rng, donors = [], ops = []) {
  const { head, parts } = splitTokens(text);
  const unit = rng.chance(0.5) ? 'statement' : 'token';
  const items = unit === 'statement' ? statements(parts) : parts;
  const count = rng.int(1, unit === 'statement' ? 3 : 4);
  for (let k = 0; k < count; k++) {
    const op = rng.pick(MUTATIONS);
    const at = () => rng.int(0, items.length);
    const len = (max) => rng.int(1, unit === 'statement' ? Math.min(max, 2) : max);
    if (op === 'delete' && items.length > 0) {
      const i = rng.int(0, items.length - 1);
      const n = Math.min(len(3), items.length - i);
      items.splice(i, n);
      ops.push(`delete ${n} ${unit}(s) at ${i}`);
    } else if (op === 'duplicate' && items.length > 0) {
      const i = rng.int(0, items.length - 1);
      const n = Math.min(len(8), items.length - i);
      const to = at();
      items.splice(to, 0, ...items.slice(i, i + n));
      ops.push(`duplicate ${n} ${unit}(s) from ${i} to ${to}`);
    } else if (op === 'swap' && items.length > 1) {
      const i = rng.int(0, items.length - 1);
      const j = rng.int(0, items.length - 1);
      [items[i], items[j]] = [items[j], items[i]];
      ops.push(`swap ${unit}s ${i} and ${j}`);
    } else if (op === 'splice') {
      const donorParts = donors.length > 0 ? splitTokens(rng.pick(donors)).parts : parts;
      const from = unit === 'statement' ? statements(donorParts) : donorParts;
      if (from.length === 0) continue;
      const i = rng.int(0, from.length - 1);
      const n = Math.min(len(12), from.length - i);
      const to = at();
      items.splice(to, 0, ...from.slice(i, i + n));
      ops.push(`splice ${n} ${unit}(s) of a donor from ${i} to ${to}`);
    }
  }
  return head + items.join('');
}

/** The SQL files under fixtures/ and examples/, in a stable order, with their `-- fixture:` settings. */
function loadCorpus(root = ROOT) {
  const out = [];
  const walk = (dir) => {
    if (!fs.existsSync(dir)) return;
    for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && e.name.endsWith('.sql')) {
        const text = fs.readFileSync(p, 'utf8');
        const m = /-- fixture:([^\n]*)/.exec(text);
        const settings = {};
        for (const kv of m ? m[1].trim().split(/\s+/) : []) {
          const [k, v] = kv.split('=');
          if (k === 'target' || k === 'runner') settings[k] = v;
        }
        out.push({ path: path.relative(root, p), text, settings });
      }
    }
  };
  walk(path.join(root, 'fixtures'));
  walk(path.join(root, 'examples'));
  return out;
}

/** File names the runner takes as its n-th migration (n from 1), relative to the linted folder. */
function migrationName(runner, n, stem) {
  const num = String(n).padStart(4, '0');
  switch (runner) {
    case 'flyway':
      return `V${n}__${stem}.sql`;
    case 'golang-migrate':
      return `${num}_${stem}.up.sql`;
    case 'goose':
      return `${num}_${stem}.sql`;
    case 'dbmate':
      return `2024010100${num}_${stem}.sql`;
    case 'sqitch':
      return `deploy/${num}_${stem}.sql`;
    case 'prisma':
      return `2024010100${num}_${stem}/migration.sql`;
    default:
      return `${num}_${stem}.sql`;
  }
}

/** Everything about case `n`: the files (the mutated one last), target, runner, CLI mode. */
function makeCase(seed, n, corpus, lib) {
  const rng = caseRng(seed, n);
  const base = rng.pick(corpus);
  const useFixture = rng.chance(0.6);
  const target = useFixture && base.settings.target && lib.TARGET_NAMES.includes(base.settings.target) ? base.settings.target : rng.pick(lib.TARGET_NAMES);
  const runner = useFixture && base.settings.runner && lib.RUNNER_NAMES.includes(base.settings.runner) ? base.settings.runner : rng.pick(lib.RUNNER_NAMES);
  const includeDown = rng.chance(0.2);
  const donors = [rng.pick(corpus).text, rng.pick(corpus).text, base.text];
  const ops = [];
  const mutated = mutate(base.text, rng, donors, ops);
  const texts = [];
  // Sometimes an earlier migration (unmutated) comes first: the mutated file then sees its tables.
  if (rng.chance(0.25)) texts.push(rng.pick(corpus).text);
  texts.push(mutated);
  const files = texts.map((text, i) => {
    const rel = migrationName(runner, i + 1, i === texts.length - 1 ? 'mutated' : 'earlier');
    return { path: rel, rel, text, report: true };
  });
  const modeRoll = rng.next();
  const mode = modeRoll < 0.5 ? 'json' : modeRoll < 0.65 ? 'fix-dry-run' : modeRoll < 0.8 ? 'fix' : rng.pick(FORMATS);
  return { n, seed, base: base.path, ops, target, runner, includeDown, files, mode };
}

function checkFindings(result, inputs, where) {
  const texts = new Map(inputs.map((i) => [i.path, i.text]));
  for (const f of result.files) {
    const text = texts.get(f.path);
    for (const x of f.findings) {
      const ok =
        typeof x.ruleId === 'string' &&
        typeof x.message === 'string' &&
        x.message.length > 0 &&
        !x.message.includes('[object Object]') &&
        Number.isInteger(x.line) &&
        Number.isInteger(x.column) &&
        x.line >= 1 &&
        x.column >= 1 &&
        (x.endLine > x.line || (x.endLine === x.line && x.endColumn >= x.column)) &&
        x.start >= 0 &&
        x.start <= x.end &&
        (text === undefined || x.end <= text.length);
      if (!ok) {
        const shown = { ...x };
        delete shown.stmt;
        delete shown.fix;
        throw new Error(`${where}: ${f.path}: impossible finding ${JSON.stringify(shown)}`);
      }
    }
  }
}

const syntaxErrors = (result) => {
  const by = new Map();
  for (const f of result.files) by.set(f.path, f.findings.filter((x) => x.ruleId === 'syntax-error').length);
  return by;
};

/** The run's inputs with the plans applied, new files right after their original (as the CLI does). */
function applyPlans(inputs, plans) {
  const byPath = new Map(plans.map((p) => [p.path, p]));
  const out = [];
  for (const input of inputs) {
    const plan = byPath.get(input.path);
    out.push(plan ? { ...input, text: plan.text } : input);
    for (const nf of plan ? plan.newFiles : []) out.push({ path: nf.path, rel: nf.path, text: nf.text, conf: nf.conf, report: input.report });
  }
  return out;
}

/**
 * Runs `fn` and fails when it writes to standard error: the library reports through its results,
 * so anything there is the parser's own output (a WebAssembly abort, a memory dump).
 */
function quietly(fn) {
  const write = process.stderr.write;
  let written = '';
  process.stderr.write = (chunk, ...rest) => {
    written += String(chunk);
    const cb = rest.find((r) => typeof r === 'function');
    if (cb) cb();
    return true;
  };
  let out;
  try {
    out = fn();
  } finally {
    process.stderr.write = write;
  }
  if (written !== '') throw new Error(`the pipeline wrote to standard error: ${written.slice(0, 500)}`);
  return out;
}

/** Runs one case in this process; throws on a failure. Returns what it saw. */
function runInProcess(c, lib) {
  return quietly(() => pipeline(c, lib));
}

function pipeline(c, lib) {
  const target = lib.parseTarget(c.target);
  const opts = { target, runner: lib.RUNNERS[c.runner], includeDown: c.includeDown, severities: {}, ruleOptions: {} };
  const inputs = c.files.map((f) => ({ ...f }));
  const result = lib.lint(inputs, opts);
  checkFindings(result, inputs, 'lint');
  const before = syntaxErrors(result);
  const hasSyntaxError = [...before.values()].some((k) => k > 0);
  let rewritten = 0;
  if (!hasSyntaxError) {
    const plans = lib.planFixes(result, opts, inputs.map((i) => i.path));
    for (const p of plans) {
      if (typeof p.text !== 'string' || p.original !== inputs.find((i) => i.path === p.path)?.text) throw new Error(`planFixes: ${p.path}: the plan's original is not the file's text`);
    }
    rewritten = plans.filter((p) => p.text !== p.original || p.newFiles.length > 0).length;
    if (rewritten > 0) {
      const fixed = applyPlans(inputs, plans);
      const again = lib.lint(fixed, opts);
      checkFindings(again, fixed, 'lint after planFixes');
      for (const [p, k] of syntaxErrors(again)) {
        if (k > 0 && !before.get(p)) {
          const broken = again.files.find((f) => f.path === p).findings.find((x) => x.ruleId === 'syntax-error');
          throw new Error(`planFixes turned ${p} into SQL with a syntax error at ${broken.line}:${broken.column}: ${broken.message}\n--- fixed ${p} ---\n${fixed.find((i) => i.path === p).text}`);
        }
      }
    }
  }
  const findings = result.files.flatMap((f) => f.findings.filter((x) => !x.suppressed).map((x) => `${f.path}:${x.line}:${x.column} ${x.severity} ${x.ruleId}`));
  const errors = result.files.reduce((n, f) => n + f.findings.filter((x) => !x.suppressed && x.severity === 'error').length, 0);
  return { hasSyntaxError, rewritten, findings, errors };
}

/** Runs one case through the built CLI in a temp folder; throws on a failure. */
function runCli(c, seen, timeoutMs) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pgd-lint-fuzz-'));
  try {
    for (const f of c.files) {
      fs.mkdirSync(path.dirname(path.join(dir, f.rel)), { recursive: true });
      fs.writeFileSync(path.join(dir, f.rel), f.text);
    }
    const args = [BIN, '.', '--target', c.target, '--runner', c.runner];
    if (c.includeDown) args.push('--include-down');
    if (c.mode === 'json') args.push('--format', 'json');
    else if (c.mode === 'fix' || c.mode === 'fix-dry-run') args.push(`--${c.mode}`, '--format', 'compact');
    else args.push('--format', c.mode);
    const r = spawnSync(process.execPath, args, { cwd: dir, encoding: 'utf8', timeout: timeoutMs, env: { ...process.env, FORCE_COLOR: '0', PGD_LINT_DEBUG: '' }, maxBuffer: 64 * 1024 * 1024 });
    const shown = `pgd-lint ${args.slice(1).join(' ')}`;
    if (r.error || r.signal) throw new Error(`${shown}: ${r.error ? r.error.message : `killed by ${r.signal}`}`);
    if (![0, 1, 2].includes(r.status)) throw new Error(`${shown}: exit code ${r.status}\n${r.stderr}`);
    if (STACK.test(r.stderr)) throw new Error(`${shown}: exit ${r.status}, a stack trace or internal error on standard error:\n${r.stderr}`);
    const lines = r.stderr.split('\n').filter((l) => l !== '');
    if (r.status === 2 && (lines.length !== 1 || !lines[0].startsWith('pgd-lint: '))) throw new Error(`${shown}: exit 2 without a one-line message:\n${r.stderr}`);
    if (c.mode === 'json' && r.status !== 2) {
      let out;
      try {
        out = JSON.parse(r.stdout);
      } catch (e) {
        throw new Error(`${shown}: the json report is not JSON (${e.message})`, { cause: e });
      }
      const cliFindings = out.files.flatMap((f) => f.findings.map((x) => `${f.path}:${x.line}:${x.column} ${x.severity} ${x.ruleId}`));
      if (JSON.stringify(cliFindings) !== JSON.stringify(seen.findings)) {
        throw new Error(`${shown}: the CLI's findings differ from the library's\n  cli:     ${JSON.stringify(cliFindings)}\n  library: ${JSON.stringify(seen.findings)}`);
      }
      const expected = seen.errors > 0 ? 1 : 0;
      if (r.status !== expected || out.summary.errors !== seen.errors) throw new Error(`${shown}: exit ${r.status} with ${out.summary.errors} errors; the library found ${seen.errors}`);
    }
    return r.status;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function describeFailure(seed, c, kind, err) {
  const lines = [
    `fuzz: FAILED seed=${seed} case=${c.n} (${kind}): ${err && err.stack ? err.stack : String(err)}`,
    `  replay: npm run fuzz -- --seed ${seed} --only ${c.n}`,
    `  base: ${c.base}; mutations: ${c.ops.join(', ') || 'none'}`,
    `  target ${c.target}, runner ${c.runner}${c.includeDown ? ', --include-down' : ''}${kind === 'cli' ? `, mode ${c.mode}` : ''}`,
  ];
  for (const f of c.files) lines.push(`--- ${f.rel} ---`, f.text, `--- end of ${f.rel} ---`);
  return lines.join('\n');
}

/**
 * Runs the fuzzer. Options: seed, cases (in process), cliCases (how many of them also go through
 * the CLI, spread evenly), only (one case number), log (a line printer), cliTimeoutMs.
 * Resolves to { seed, cases, cliCases, failures: [{ case, kind, report }], stats }.
 */
async function runFuzz(options = {}) {
  const seed = options.seed ?? 1;
  const cases = options.cases ?? 5000;
  const cliCases = Math.min(options.cliCases ?? Math.min(100, Math.ceil(cases / 20)), cases);
  const log = options.log ?? (() => {});
  if (!fs.existsSync(LIB)) throw new Error(`${path.relative(ROOT, LIB)} is missing: run \`npm run build\` first`);
  const lib = require(LIB);
  await lib.loadParser();
  await loadScanner();
  const corpus = loadCorpus(options.root ?? ROOT);
  if (corpus.length === 0) throw new Error('no SQL files under fixtures/ or examples/');
  const stride = cliCases > 0 ? cases / cliCases : Infinity;
  const cliAt = new Set();
  for (let k = 0; k < cliCases; k++) cliAt.add(Math.floor(k * stride));
  const stats = { inProcess: 0, cli: 0, syntaxError: 0, withFindings: 0, clean: 0, fixPlanned: 0, cliExit: { 0: 0, 1: 0, 2: 0 }, slowestMs: 0, slowestCase: -1 };
  const failures = [];
  const numbers = options.only !== undefined ? [options.only] : Array.from({ length: cases }, (_, i) => i);
  for (const n of numbers) {
    const c = makeCase(seed, n, corpus, lib);
    const t0 = Date.now();
    let seen;
    try {
      seen = runInProcess(c, lib);
    } catch (e) {
      const report = describeFailure(seed, c, 'in-process', e);
      failures.push({ case: n, kind: 'in-process', report });
      log(report);
      continue;
    } finally {
      stats.inProcess++;
      const ms = Date.now() - t0;
      if (ms > stats.slowestMs) {
        stats.slowestMs = ms;
        stats.slowestCase = n;
      }
    }
    if (seen.hasSyntaxError) stats.syntaxError++;
    else if (seen.findings.length > 0) stats.withFindings++;
    else stats.clean++;
    if (seen.rewritten > 0) stats.fixPlanned++;
    if (options.only !== undefined || cliAt.has(n)) {
      try {
        const code = runCli(c, seen, options.cliTimeoutMs ?? 60000);
        stats.cliExit[code]++;
      } catch (e) {
        const report = describeFailure(seed, c, 'cli', e);
        failures.push({ case: n, kind: 'cli', report });
        log(report);
      } finally {
        stats.cli++;
      }
    }
    if (options.progress && (n + 1) % 500 === 0) log(`fuzz: ${n + 1}/${cases} cases, ${failures.length} failing`);
  }
  return { seed, cases: numbers.length, cliCases: stats.cli, failures, stats };
}

function parseArgs(argv) {
  const opts = { seed: 1, cases: 5000, cliCases: undefined, only: undefined, quiet: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const num = (min) => {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < min) throw new Error(`${a}: expected a whole number of ${min} or more`);
      return v;
    };
    if (a === '--seed') opts.seed = num(0);
    else if (a === '--cases') opts.cases = num(1);
    else if (a === '--cli-cases') opts.cliCases = num(0);
    else if (a === '--only') opts.only = num(0);
    else if (a === '--quiet') opts.quiet = true;
    else if (a === '--help' || a === '-h') opts.help = true;
    else throw new Error(`unknown option ${a} (see --help)`);
  }
  return opts;
}

async function main(argv) {
  let opts;
  try {
    opts = parseArgs(argv);
  } catch (e) {
    process.stderr.write(`fuzz: ${e.message}\n`);
    return 2;
  }
  if (opts.help) {
    process.stdout.write('Usage: node scripts/fuzz.js [--seed N] [--cases N] [--cli-cases N] [--only K] [--quiet]\n');
    return 0;
  }
  const t0 = Date.now();
  let report;
  try {
    report = await runFuzz({ ...opts, progress: !opts.quiet, log: (s) => process.stdout.write(`${s}\n`) });
  } catch (e) {
    process.stderr.write(`fuzz: ${e.message}\n`);
    return 2;
  }
  const s = report.stats;
  process.stdout.write(
    `fuzz: seed ${report.seed}: ${s.inProcess} cases in process (${s.syntaxError} with a syntax error, ${s.withFindings} with findings, ${s.clean} clean; ` +
      `${s.fixPlanned} rewritten by planFixes), ${s.cli} through the CLI (exit 0: ${s.cliExit[0]}, 1: ${s.cliExit[1]}, 2: ${s.cliExit[2]}); ` +
      `slowest case ${s.slowestCase} (${s.slowestMs} ms); ${((Date.now() - t0) / 1000).toFixed(1)} s; ${report.failures.length} failing\n`,
  );
  return report.failures.length > 0 ? 1 : 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}

module.exports = { caseRng, loadScanner, splitTokens, mutate, loadCorpus, makeCase, runInProcess, runCli, runFuzz, main };
