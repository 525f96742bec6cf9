/**
 * The command line: wires input, model, rules and reporters together. Nothing else lives here.
 */
import * as fs from 'fs';
import * as path from 'path';
import fg from 'fast-glob';
import yargs from 'yargs';
import { Config, LoadedConfig, discoverConfig, printableConfig, readConfig } from './config';
import { UsageError, collectFiles, readStdin } from './input';
import { FileResult, Finding, LintResult, lint } from './lint';
import { InputFile, buildModel } from './model';
import { neighboursOf } from './neighbours';
import { fixedInputs, planAllFixes, planDiff, writePlans } from './fixio';
import { pgliteFactory, verify } from './verify';
import { packageInfo, ruleDocs, ruleDocsUrl } from './report-meta';
import { applyBaseline, fingerprints, makeBaseline, readBaseline, writeBaseline } from './baseline';
import { changedFiles, isChanged } from './changed';
import { writeFileAtomic } from './output';
import { progress } from './progress';
import { loadParser } from './parser';
import { allMetas, allRules } from './registry';
import { compact } from './reporters/compact';
import { github } from './reporters/github';
import { json } from './reporters/json';
import { junit } from './reporters/junit';
import { sarif } from './reporters/sarif';
import { stylish } from './reporters/stylish';
import { FORMATS } from './reporters/formats';
import type { ReportInput, Reporter } from './reporters/types';
import type { SeverityOrOff } from './rule';
import { RUNNERS, RUNNER_NAMES } from './runners';
import { DEFAULT_TARGET, TARGET_NAMES, Target, parseTarget } from './targets';

const REPORTERS: Record<string, Reporter> = { stylish, json, sarif, github, compact, junit };
export { FORMATS };

const VERSION: string = (() => {
  try {
    return JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')).version;
  } catch {
    return '0.0.0';
  }
})();

interface Io {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  isTTY: boolean;
  cwd: string;
  /** Whether standard error is a terminal (the progress line). */
  stderrIsTTY?: boolean;
}

const defaultIo: Io = {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
  isTTY: !!process.stdout.isTTY,
  cwd: process.cwd(),
  stderrIsTTY: !!process.stderr.isTTY,
};

function parseArgs(argv: string[]) {
  return yargs(argv)
    .scriptName('pgd-lint')
    .usage('pgd-lint [paths or globs ...] [options]\n\nLint PostgreSQL migrations for EDB Postgres Distributed (PGD) and BDR.')
    .option('target', { type: 'string', requiresArg: true, describe: `Cluster the migrations run on: ${TARGET_NAMES.join(', ')}` })
    .option('runner', { type: 'string', requiresArg: true, describe: `How the migration tool runs files: ${RUNNER_NAMES.join(', ')}` })
    .option('format', { type: 'string', requiresArg: true, describe: `Output format: ${FORMATS.join(', ')}` })
    .option('fix', { type: 'boolean', describe: 'Rewrite into the safe multi-step sequence' })
    .option('fix-dry-run', { type: 'boolean', describe: 'Print the rewrite as a unified diff without writing' })
    .option('stdin', { type: 'boolean', describe: 'Lint standard input' })
    .option('stdin-filename', { type: 'string', requiresArg: true, describe: 'Name (and place) of the file read from standard input' })
    .option('config', { type: 'string', requiresArg: true, describe: 'Config file to use instead of the discovered one' })
    .option('rule', { type: 'string', array: true, nargs: 1, describe: 'Override one rule: ID=off|warn|error (repeatable)' })
    .option('max-warnings', { type: 'number', requiresArg: true, describe: 'Exit 1 when warnings exceed this number' })
    .option('list-rules', { type: 'boolean', describe: 'Print the rule table for the target' })
    .option('explain', { type: 'string', requiresArg: true, describe: "Print one rule's documentation" })
    .option('print-config', { type: 'boolean', describe: 'Print the merged configuration (config file and command line) as JSON' })
    .option('include-down', { type: 'boolean', describe: 'Also lint down migrations' })
    .option('color', { type: 'boolean', describe: 'Force colour on or off (--no-color)' })
    .option('verify', { type: 'boolean', describe: 'With --fix / --fix-dry-run: prove the rewrite gives the same schema (embedded PostgreSQL)' })
    .option('index-strategy', { type: 'string', requiresArg: true, describe: 'How --fix builds indexes: concurrently (default) or run-on-all-nodes' })
    .option('output-file', { alias: 'o', type: 'string', requiresArg: true, describe: 'Write the report to this file instead of standard output' })
    .option('changed-since', { type: 'string', requiresArg: true, describe: 'Report only on files added or modified since this git ref (all files are still replayed)' })
    .option('baseline', { type: 'string', requiresArg: true, describe: 'Leave out the findings recorded in this baseline file' })
    .option('write-baseline', { type: 'string', requiresArg: true, describe: "Record this run's findings in a baseline file" })
    .version(VERSION)
    .help()
    .alias('h', 'help')
    .strictOptions()
    .exitProcess(false)
    .fail((msg, err) => {
      throw new UsageError(usageMessage(msg || err?.message || 'invalid arguments'));
    })
    .wrap(Math.min(110, process.stdout.columns || 100));
}

/** yargs' wording, in this tool's: the option with its dashes. */
function usageMessage(msg: string): string {
  const missing = /^Not enough arguments following: (\S+)$/.exec(msg);
  if (missing) return `--${missing[1]}: missing value`;
  const unknown = /^Unknown arguments?: (.+)$/.exec(msg);
  if (unknown) {
    // yargs lists an option under its camel-case alias too (--bogus-flag, --bogusFlag): once is enough.
    const raw = unknown[1].split(', ');
    const kebab = (n: string): string => n.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
    const names = raw.filter((n) => n === kebab(n) || !raw.includes(kebab(n))).map((n) => (n.length === 1 ? `-${n}` : `--${n}`));
    return `unknown option${names.length > 1 ? 's' : ''} ${names.join(', ')} (see --help)`;
  }
  return msg;
}

/** Options that take one value: given twice, the last one wins (yargs would make an array). */
const SINGLE_VALUED = ['target', 'runner', 'format', 'stdin-filename', 'config', 'max-warnings', 'explain', 'index-strategy', 'output-file', 'o', 'changed-since', 'baseline', 'write-baseline'];

function lastWins(args: Record<string, unknown>): Record<string, unknown> {
  for (const k of SINGLE_VALUED) {
    const v = args[k];
    if (Array.isArray(v)) args[k] = v[v.length - 1];
  }
  return args;
}

export interface Settings {
  target: Target;
  runnerName: string;
  format: string;
  severities: Record<string, SeverityOrOff>;
  ruleOptions: Record<string, Record<string, unknown>>;
  maxWarnings?: number;
  /** Config `exclude`, anchored at `base` (absolute globs): a folder walk anywhere leaves the same files out. */
  exclude: string[];
  /** Config `include` as written, relative to `base`. */
  include: string[];
  /** The folder the config's `include` / `exclude` are relative to. */
  base?: string;
  includeDown: boolean;
  configFile?: string;
}

const posix = (p: string): string => p.replace(/\\/g, '/');

/** A config glob made absolute: relative to `base`, special characters of `base` escaped. */
function anchorGlob(glob: string, base: string | undefined): string {
  if (base === undefined || path.isAbsolute(glob) || glob.startsWith('!')) return glob;
  return `${fg.escapePath(posix(path.resolve(base)))}/${glob.replace(/^(\.\/)+/, '')}`;
}

/** Config `include` entries as command-line paths, relative to `cwd` (so reports show the usual paths). */
export function includeTargets(settings: Settings, cwd: string): string[] {
  const rel = settings.base === undefined ? '' : posix(path.relative(cwd, settings.base));
  if (rel === '') return settings.include;
  return settings.include.map((p) => {
    if (path.isAbsolute(p)) return p;
    const prefix = fg.isDynamicPattern(p) ? fg.escapePath(rel) : rel;
    return path.posix.join(prefix, p);
  });
}

function toSeverity(v: string, where: string): SeverityOrOff {
  if (v === 'off' || v === '0') return 'off';
  if (v === 'warn' || v === 'warning' || v === '1') return 'warning';
  if (v === 'error' || v === '2') return 'error';
  throw new UsageError(`${where}: unknown severity "${v}" (use off, warn or error)`);
}

/**
 * Merges defaults, the config file and the command line (the command line wins).
 * `base`: the folder the config's `include` and `exclude` are relative to: by default the config
 * file's folder (a discovered config means the same files from any sub-folder); the command line
 * passes the current folder for `--config FILE`, as ESLint does.
 */
export function resolveSettings(args: Record<string, unknown>, loaded: LoadedConfig | undefined, base?: string): Settings {
  const globBase = base ?? (loaded?.file ? path.dirname(loaded.file) : undefined);
  const config: Config = loaded?.config ?? {};
  const where = loaded?.file ?? 'config';
  // The file was checked against the config schema when it was read (src/config.ts).
  const knownIds = new Set(allMetas().map((m) => m.id));
  const targetName = (args.target as string | undefined) ?? config.target ?? DEFAULT_TARGET;
  const target = parseTarget(String(targetName));
  if (!target) {
    const src = args.target !== undefined ? '--target' : where;
    throw new UsageError(`${src}: unknown target "${targetName}"; valid targets: ${TARGET_NAMES.join(', ')}`);
  }
  const runnerName = (args.runner as string | undefined) ?? config.runner ?? 'plain';
  if (!RUNNERS[runnerName]) throw new UsageError(`${args.runner !== undefined ? '--runner' : where}: unknown runner "${runnerName}"; valid runners: ${RUNNER_NAMES.join(', ')}`);
  const format = (args.format as string | undefined) ?? (config.format as string | undefined) ?? 'stylish';
  if (!FORMATS.includes(format)) throw new UsageError(`--format: unknown format "${format}"; valid formats: ${FORMATS.join(', ')}`);
  if (!REPORTERS[format]) throw new UsageError(`--format: the "${format}" format is not available yet`);

  const severities: Record<string, SeverityOrOff> = {};
  const ruleOptions: Record<string, Record<string, unknown>> = {};
  for (const [id, setting] of Object.entries(config.rules ?? {})) {
    if (Array.isArray(setting)) {
      severities[id] = toSeverity(String(setting[0]), `${where}: rules.${id}`);
      if (setting[1] && typeof setting[1] === 'object') ruleOptions[id] = { ...setting[1] };
    } else severities[id] = toSeverity(String(setting), `${where}: rules.${id}`);
  }
  for (const id of knownIds) {
    const opts = config[id];
    if (opts !== undefined) {
      ruleOptions[id] = { ...(ruleOptions[id] ?? {}), ...(opts as Record<string, unknown>) };
    }
  }
  const strategy = args['index-strategy'] as string | undefined;
  if (strategy !== undefined) {
    if (strategy !== 'concurrently' && strategy !== 'run-on-all-nodes') throw new UsageError(`--index-strategy: expected concurrently or run-on-all-nodes, got "${strategy}"`);
    ruleOptions['require-concurrent-index'] = { ...(ruleOptions['require-concurrent-index'] ?? {}), indexStrategy: strategy };
  }
  for (const r of (args.rule as string[] | undefined) ?? []) {
    const m = /^([a-z0-9-]+)\s*=\s*(\S+)$/.exec(r);
    if (!m) throw new UsageError(`--rule: expected ID=off|warn|error, got "${r}"`);
    if (!knownIds.has(m[1])) throw new UsageError(`--rule: unknown rule id "${m[1]}"`);
    severities[m[1]] = toSeverity(m[2], `--rule ${m[1]}`);
  }
  const maxWarnings = (args['max-warnings'] as number | undefined) ?? (config.maxWarnings as number | undefined);
  if (maxWarnings !== undefined && (!Number.isInteger(maxWarnings) || maxWarnings < 0)) throw new UsageError('--max-warnings: expected a whole number of 0 or more');
  return {
    target,
    runnerName,
    format,
    severities,
    ruleOptions,
    maxWarnings,
    include: config.include ?? [],
    exclude: (config.exclude ?? []).map((g) => anchorGlob(g, globBase)),
    base: globBase,
    includeDown: !!(args['include-down'] ?? config.includeDown),
    configFile: loaded?.file,
  };
}

function listRules(target: Target): string {
  const metas = allMetas();
  const idWidth = Math.max(...metas.map((m) => m.id.length));
  const lines = [`Rules for ${target.name}:`, ''];
  for (const m of metas) {
    const sev = m.severity(target);
    lines.push(`  ${m.id.padEnd(idWidth)}  ${(sev === 'warning' ? 'warn' : sev).padEnd(5)}  ${m.fixable ? 'fix' : '   '}  ${m.description}`);
  }
  return lines.join('\n') + '\n';
}

function explain(id: string): string {
  if (!allMetas().some((m) => m.id === id)) throw new UsageError(`--explain: unknown rule id "${id}"`);
  const doc = path.join(__dirname, '..', '..', 'docs', 'rules', `${id}.md`);
  try {
    return fs.readFileSync(doc, 'utf8');
  } catch {
    throw new UsageError(`--explain: no documentation found for "${id}"`);
  }
}

/** What the report also says beyond the findings (all optional). */
export interface ReportExtras {
  /** Configured severities (SARIF's rule configuration). */
  severities?: Record<string, SeverityOrOff>;
  /** Fingerprints of findings (SARIF partialFingerprints). */
  fingerprints?: Map<Finding, string>;
  /** The folder report paths are relative to. */
  cwd?: string;
  /** Include each rule's docs page (SARIF help). */
  ruleHelp?: boolean;
}

export function toReportInput(result: LintResult, color: boolean, extras: ReportExtras = {}): ReportInput {
  const files = result.files.map((f: FileResult) => ({
    path: f.path,
    findings: f.findings.map((x) => ({
      ruleId: x.ruleId,
      severity: x.severity,
      message: x.message,
      line: x.line,
      column: x.column,
      endLine: x.endLine,
      endColumn: x.endColumn,
      suggestion: x.suggestion,
      fixable: x.fixable,
      suppressed: x.suppressed,
      fingerprint: extras.fingerprints?.get(x),
    })),
  }));
  let errors = 0;
  let warnings = 0;
  let fixable = 0;
  for (const f of files) {
    for (const x of f.findings) {
      if (x.suppressed) continue;
      if (x.severity === 'error') errors++;
      else warnings++;
      if (x.fixable) fixable++;
    }
  }
  return {
    target: result.target.name,
    files,
    summary: { files: files.length, errors, warnings, fixable },
    rules: allMetas().map((m) => ({
      id: m.id,
      description: m.description,
      docs: `docs/rules/${m.id}.md`,
      helpUri: ruleDocsUrl(m.id),
      help: extras.ruleHelp ? ruleDocs(m.id) : undefined,
      severity: extras.severities?.[m.id] ?? m.severity(result.target),
      fixable: m.fixable,
    })),
    tool: { name: 'pgd-lint', version: VERSION, informationUri: packageInfo().repository ?? packageInfo().homepage },
    cwd: extras.cwd,
    color,
  };
}

/** Runs the CLI; returns the exit code. */
export async function main(argv: string[], io: Io = defaultIo): Promise<number> {
  try {
    // The language server is loaded only when asked for.
    if (argv[0] === 'lsp') return await (await import('./lsp/server')).serve(argv.slice(1));
    return await run(argv, io);
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr(`pgd-lint: ${e.message}\n`);
      return 2;
    }
    const err = e as Error;
    io.stderr(`pgd-lint: internal error: ${err?.message ?? String(e)}\n`);
    if (process.env.PGD_LINT_DEBUG) io.stderr(`${err?.stack ?? ''}\n`);
    return 2;
  }
}

async function run(argv: string[], io: Io): Promise<number> {
  let helpText = '';
  const parser = parseArgs(argv);
  const args = (await parser.parseAsync(argv, {}, (err, _argv, output) => {
    if (output) helpText = output;
    if (err) throw new UsageError(usageMessage(err.message));
  })) as Record<string, unknown>;
  lastWins(args);
  if (helpText) {
    io.stdout(helpText.endsWith('\n') ? helpText : `${helpText}\n`);
    return 0;
  }

  const configFile = args.config !== undefined ? path.resolve(io.cwd, String(args.config)) : discoverConfig(io.cwd);
  const loaded = configFile ? readConfig(configFile) : undefined;
  const settings = resolveSettings(args, loaded, args.config !== undefined ? io.cwd : undefined);

  if (args['print-config']) {
    const printed = printableConfig({
      ...settings,
      exclude: loaded?.config.exclude ?? [],
      target: settings.target.name,
      runner: settings.runnerName,
      severity: (m) => settings.severities[m.id] ?? m.severity(settings.target),
    });
    io.stdout(JSON.stringify(printed, null, 2) + '\n');
    return 0;
  }
  if (args['list-rules']) {
    io.stdout(listRules(settings.target));
    return 0;
  }
  if (args.explain !== undefined) {
    io.stdout(explain(String(args.explain)));
    return 0;
  }

  const runner = RUNNERS[settings.runnerName];
  const paths = ((args._ as unknown[]) ?? []).map(String);
  let inputs: InputFile[];
  let stdinInput: InputFile | undefined;
  if (args.stdin) {
    stdinInput = readStdin(String(args['stdin-filename'] ?? '<stdin>'));
    inputs = [stdinInput];
    // An editor's file: its neighbours are replayed (unreported), so a finding equals a folder run's.
    // A name that is only a label (`alembic upgrade --sql | ... --stdin-filename x.sql`) has none.
    if (args['stdin-filename'] !== undefined && fs.existsSync(path.resolve(io.cwd, stdinInput.path))) {
      const nb = neighboursOf(stdinInput.path, io.cwd, { runner, includeDown: settings.includeDown, exclude: settings.exclude });
      if (nb) {
        stdinInput = { ...stdinInput, rel: nb.rel };
        inputs = [...nb.before, stdinInput, ...nb.after];
      }
    }
  } else {
    const targets = paths.length > 0 ? paths : includeTargets(settings, io.cwd);
    if (targets.length === 0) throw new UsageError('no files given: pass paths or globs, or --stdin');
    inputs = collectFiles(targets, { runner, cwd: io.cwd, exclude: settings.exclude, includeDown: settings.includeDown });
  }
  if (args['changed-since'] !== undefined) {
    // Every file is still replayed (the catalog needs the earlier migrations); only changed ones are reported.
    if (args.stdin) throw new UsageError('--changed-since goes with paths or globs, not with --stdin');
    const changed = changedFiles(String(args['changed-since']), io.cwd);
    inputs = inputs.map((i) => ({ ...i, report: i.report && isChanged(changed, i.path, io.cwd) }));
  }
  const baseline = args.baseline !== undefined ? readBaseline(path.resolve(io.cwd, String(args.baseline))) : undefined;
  const prog = progress(inputs.length, io.stderr, !!io.stderrIsTTY);
  prog?.start();
  await loadParser();
  const lintOptions = {
    target: settings.target,
    runner,
    includeDown: settings.includeDown,
    severities: settings.severities,
    ruleOptions: settings.ruleOptions,
  };
  let result: LintResult;
  try {
    result = lint(inputs, { ...lintOptions, progress: prog && ((done) => prog.update(done)) });
  } finally {
    prog?.end();
  }
  const outputFile = args['output-file'] !== undefined ? path.resolve(io.cwd, String(args['output-file'])) : undefined;
  const color = args.color === undefined ? io.isTTY && !outputFile : !!args.color;

  const fixing = !!args.fix || !!args['fix-dry-run'];
  if (args.verify && !fixing) throw new UsageError('--verify goes with --fix or --fix-dry-run');
  if (fixing) {
    const { plans, after } = planAllFixes(inputs, lintOptions, result);
    for (const p of plans) {
      for (const s of p.skipped) io.stderr(`pgd-lint: ${p.path}${s.line ? `:${s.line}` : ''}: not rewritten (${s.ruleId}): ${s.reason}\n`);
    }
    let verifyFailed = false;
    if (args.verify) {
      const fixed = fixedInputs(inputs, plans);
      const modelOpts = { runner, includeDown: settings.includeDown };
      const factory = pgliteFactory();
      try {
        const v = await verify(factory, buildModel(inputs, modelOpts).files, buildModel(fixed, modelOpts).files, { target: settings.target });
        const shown = (d: { object: string; original?: string; fixed?: string }): string =>
          `  ${d.object}\n    original: ${d.original ?? '(absent)'}\n    fixed:    ${d.fixed ?? '(absent)'}\n`;
        if (v.error) {
          io.stderr(`pgd-lint: --verify (${v.database}): ${v.error}\n`);
          verifyFailed = true;
        } else if (v.differences.length > 0) {
          verifyFailed = true;
          io.stderr(`pgd-lint: --verify (${v.database}): the fixed migrations give a different schema:\n`);
          for (const d of v.differences) io.stderr(shown(d));
        } else {
          io.stderr(`pgd-lint: --verify (${v.database}): the original and the fixed migrations give the same schema${v.equivalences.length > 0 ? ', up to these deliberate, equivalent changes:' : ''}\n`);
          for (const d of v.equivalences) io.stderr(`${shown(d)}    why:      ${d.reason}\n`);
        }
      } finally {
        await factory.dispose();
      }
    }
    if (args['fix-dry-run']) {
      io.stdout(planDiff(plans));
      const errors = result.files.some((f) => f.findings.some((x) => !x.suppressed && x.severity === 'error'));
      return verifyFailed || errors ? 1 : 0;
    }
    if (args.stdin) {
      // Standard input has no file to rewrite: the fixed text goes to standard output.
      const extra = plans[0]?.newFiles.length ?? 0;
      if (extra > 0) io.stderr(`pgd-lint: ${extra} step${extra === 1 ? '' : 's'} that need${extra === 1 ? 's' : ''} a migration of ${extra === 1 ? 'its' : 'their'} own cannot be written from --stdin: run --fix on the file\n`);
      io.stdout(plans[0]?.text ?? stdinInput!.text);
      return verifyFailed ? 1 : 0;
    }
    if (verifyFailed) {
      io.stderr('pgd-lint: nothing was written because --verify failed\n');
      return 1;
    }
    const written = writePlans(plans, io.cwd);
    for (const w of written) io.stderr(`pgd-lint: wrote ${w}\n`);
    // Report what is left, on the files as they are now.
    result = after;
  }

  const wantsFingerprints = baseline !== undefined || args['write-baseline'] !== undefined || settings.format === 'sarif';
  const fps = wantsFingerprints ? fingerprints(result) : undefined;
  if (args['write-baseline'] !== undefined) {
    const recorded = makeBaseline(result, fps!, io.cwd);
    writeBaseline(path.resolve(io.cwd, String(args['write-baseline'])), recorded);
    io.stderr(`pgd-lint: recorded ${recorded.findings.length} finding${recorded.findings.length === 1 ? '' : 's'} in ${args['write-baseline']}\n`);
    result = applyBaseline(result, fps!, recorded, io.cwd).result;
  }
  if (baseline) result = applyBaseline(result, fps!, baseline, io.cwd).result;
  const report = toReportInput(result, color, { severities: settings.severities, fingerprints: fps, cwd: io.cwd, ruleHelp: settings.format === 'sarif' });
  const text = REPORTERS[settings.format](report);
  if (outputFile) writeFileAtomic(outputFile, text, '--output-file');
  else io.stdout(text);
  const { errors, warnings } = report.summary;
  if (errors > 0) return 1;
  if (settings.maxWarnings !== undefined && warnings > settings.maxWarnings) return 1;
  return 0;
}

void allRules;
