/**
 * Workflows, through the built CLI as a subprocess: the config file and its schema, the CI formats
 * (sarif, github, compact, junit), --output-file, --changed-since, baselines, progress, action.yml.
 */
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import Ajv from 'ajv';
import AjvDraft04 from 'ajv-draft-04';
import addFormats from 'ajv-formats';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import YAML from 'yaml';
import { cli, ROOT, tempDir } from './helpers/cli';
import { configSchema } from '../src/config';
import { allMetas } from '../src/registry';

const SCHEMA_FILE = path.join(ROOT, 'schema', 'pgd-lint.config.schema.json');

function printConfig(cwd: string, args: string[] = []): Record<string, unknown> {
  const r = cli(['--print-config', ...args], { cwd });
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout);
}

/** A folder that is the root of a (fake) repository: discovery stops at its `.git`. */
function repoDir(files: Record<string, string> = {}): string {
  const dir = tempDir(files);
  fs.mkdirSync(path.join(dir, '.git'));
  return dir;
}

describe('config file', () => {
  test('found by walking up from the current folder, and not above the repository root', () => {
    const dir = repoDir({ 'pgd-lint.config.json': '{ "target": "bdr1" }', 'db/migrations/V1__a.sql': 'SELECT 1;\n' });
    expect(printConfig(path.join(dir, 'db', 'migrations')).target).toBe('bdr1');

    const outer = tempDir({ 'pgd-lint.config.json': '{ "target": "pgd6" }' });
    fs.mkdirSync(path.join(outer, 'repo', 'sub'), { recursive: true });
    fs.mkdirSync(path.join(outer, 'repo', '.git'));
    expect(printConfig(path.join(outer, 'repo', 'sub')).target).toBe('pgd5');
    expect(printConfig(outer).target).toBe('pgd6');
  });

  test('.pgd-lint.json and the "pgdLint" key of package.json', () => {
    expect(printConfig(repoDir({ '.pgd-lint.json': '{ "runner": "flyway" }' })).runner).toBe('flyway');
    const pkg = repoDir({ 'package.json': JSON.stringify({ name: 'app', pgdLint: { runner: 'goose', target: 'pgd4' } }) });
    expect(printConfig(pkg)).toMatchObject({ runner: 'goose', target: 'pgd4' });
    // A package.json without the key is not a config: the search goes on.
    const noKey = repoDir({ 'pgd-lint.config.json': '{ "target": "bdr3" }', 'app/package.json': '{ "name": "app" }' });
    expect(printConfig(path.join(noKey, 'app')).target).toBe('bdr3');
  });

  test('--config names the file instead of the discovered one', () => {
    const dir = repoDir({ 'pgd-lint.config.json': '{ "target": "bdr1" }', 'ci/strict.json': '{ "target": "pgd6.1" }' });
    expect(printConfig(dir, ['--config', 'ci/strict.json']).target).toBe('pgd6.1');
  });

  test('command-line flags win over the file', () => {
    const dir = repoDir({
      'pgd-lint.config.json': JSON.stringify({
        target: 'bdr1',
        runner: 'flyway',
        format: 'json',
        maxWarnings: 3,
        rules: { 'no-lock-table': 'off', 'require-primary-key': 'warn' },
      }),
    });
    const file = printConfig(dir);
    expect(file).toMatchObject({ target: 'bdr1', runner: 'flyway', format: 'json', maxWarnings: 3 });
    expect((file.rules as Record<string, string>)['no-lock-table']).toBe('off');
    expect((file.rules as Record<string, string>)['require-primary-key']).toBe('warn');
    const merged = printConfig(dir, ['--target', 'pgd6', '--runner', 'goose', '--format', 'compact', '--max-warnings', '0', '--rule', 'no-lock-table=error']);
    expect(merged).toMatchObject({ target: 'pgd6', runner: 'goose', format: 'compact', maxWarnings: 0 });
    expect((merged.rules as Record<string, string>)['no-lock-table']).toBe('error');
    expect((merged.rules as Record<string, string>)['require-primary-key']).toBe('warn');
  });

  test('the config changes what is linted: a rule off, and a rule option', () => {
    const inserts = Array.from({ length: 5 }, (_, i) => `INSERT INTO t VALUES (${i});`).join('\n');
    const sql = `BEGIN;\nCREATE TABLE t (id int PRIMARY KEY);\n${inserts}\nLOCK TABLE t;\nCOMMIT;\n`;
    const dir = repoDir({ 'm.sql': sql });
    const ids = (): string[] => JSON.parse(cli(['m.sql', '--format', 'json'], { cwd: dir }).stdout).files[0].findings.map((f: { ruleId: string }) => f.ruleId);
    expect(ids()).toEqual(['no-lock-table']);
    fs.writeFileSync(path.join(dir, 'pgd-lint.config.json'), JSON.stringify({ rules: { 'no-lock-table': 'off' }, 'no-mixed-ddl-dml': { maxInsertRows: 2 } }));
    expect(ids()).toEqual(['no-mixed-ddl-dml']);
    fs.writeFileSync(path.join(dir, 'pgd-lint.config.json'), JSON.stringify({ rules: { 'no-lock-table': 'off', 'no-mixed-ddl-dml': ['warn', { maxInsertRows: 2 }] } }));
    expect(ids()).toEqual(['no-mixed-ddl-dml']);
  });

  test('an unknown key, rule id, option, severity, target or runner is exit 2 naming it, the file, line and column', () => {
    const cases: Array<[string, RegExp]> = [
      ['{\n  "target": "pgd5",\n  "bogus": 1\n}', /pgd-lint\.config\.json:3:3: unknown key "bogus"$/],
      ['{\n  "rules": {\n    "no-lock-tabel": "off"\n  }\n}', /pgd-lint\.config\.json:3:5: unknown rule id "no-lock-tabel" in "rules"$/],
      ['{ "rules": { "no-lock-table": "sometimes" } }', /pgd-lint\.config\.json:1:31: "rules\.no-lock-table": unknown severity "sometimes" \(use off, warn or error\)$/],
      ['{ "rules": { "no-mixed-ddl-dml": ["loud", {}] } }', /1:35: "rules\.no-mixed-ddl-dml": unknown severity "loud"/],
      ['{\n  "target": "pgd9"\n}', /pgd-lint\.config\.json:2:13: unknown target "pgd9"; valid targets: bdr1, .*pgd6\.2$/],
      ['{ "runner": "liquibase" }', /1:13: unknown runner "liquibase"; valid runners: plain, flyway/],
      ['{ "format": "yaml" }', /unknown format "yaml"/],
      ['{ "no-mixed-ddl-dml": { "maxInsertRow": 3 } }', /1:25: unknown option "maxInsertRow" of rule "no-mixed-ddl-dml" \(options: maxInsertRows\)$/],
      ['{ "rules": { "no-mixed-ddl-dml": ["warn", { "budget": 3 }] } }', /unknown option "budget" of rule "no-mixed-ddl-dml"/],
      ['{ "no-mixed-ddl-dml": { "maxInsertRows": "many" } }', /1:42: "no-mixed-ddl-dml\.maxInsertRows" must be integer$/],
      ['{ "require-primary-key": {} }', /unknown key "require-primary-key": the rule "require-primary-key" takes no options/],
      ['{ "include": "migrations" }', /"include" must be array$/],
      ['{ "rules": { "no-lock-table": "off", } }', /pgd-lint\.config\.json:1:38: invalid JSON: /],
      ['[]', /the config must be a JSON object/],
    ];
    for (const [text, msg] of cases) {
      const dir = repoDir({ 'pgd-lint.config.json': text, 'm.sql': 'SELECT 1;\n' });
      const r = cli(['m.sql'], { cwd: dir });
      expect({ text, code: r.code }).toEqual({ text, code: 2 });
      expect({ text, stderr: r.stderr.trim() }).toEqual({ text, stderr: expect.stringMatching(msg) });
      expect(r.stderr).toContain(path.join(dir, 'pgd-lint.config.json'));
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stdout).toBe('');
    }
    const pkg = repoDir({ 'package.json': '{\n  "name": "x",\n  "pgdLint": { "rules": { "nope": "off" } }\n}\n' });
    const r = cli(['--print-config'], { cwd: pkg });
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(`pgd-lint: ${path.join(pkg, 'package.json')}:3:27: unknown rule id "nope" in "rules"`);
  });

  test('a missing --config file is exit 2', () => {
    const r = cli(['--config', 'nowhere.json', 'm.sql'], { cwd: repoDir() });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/nowhere\.json: cannot read config: no such file/);
  });

  test('--print-config prints a config that validates against the shipped schema and reads back the same', () => {
    const dir = repoDir({ 'pgd-lint.config.json': JSON.stringify({ target: 'bdr3.6', rules: { 'no-lock-table': 'off' }, 'require-concurrent-index': { indexStrategy: 'run-on-all-nodes' } }) });
    const printed = printConfig(dir);
    const validate = new Ajv({ strictTuples: false }).compile(JSON.parse(fs.readFileSync(SCHEMA_FILE, 'utf8')));
    expect(validate(printed)).toBe(true);
    expect(printed['require-concurrent-index']).toEqual({ indexStrategy: 'run-on-all-nodes' });
    expect(printed['no-mixed-ddl-dml']).toEqual({ maxInsertRows: 100 });
    // Every rule has its severity on the target.
    expect(Object.keys(printed.rules as object).sort()).toEqual(allMetas().map((m) => m.id).sort());
    expect((printed.rules as Record<string, string>)['no-create-table-as']).toBe('warn'); // bdr3: warning
    // Saved as a config file, it gives the same result.
    const again = repoDir({ 'pgd-lint.config.json': JSON.stringify(printed) });
    expect(printConfig(again)).toEqual(printed);
  });
});

describe('config schema', () => {
  test('the shipped schema is what the rules say (regenerate with `npm run schema`)', () => {
    const shipped = JSON.parse(fs.readFileSync(SCHEMA_FILE, 'utf8'));
    expect(shipped).toEqual(configSchema());
  });

  test('the shipped schema names every rule id and every rule option', () => {
    const shipped = JSON.parse(fs.readFileSync(SCHEMA_FILE, 'utf8'));
    const ruleProps = shipped.properties.rules.properties;
    for (const m of allMetas()) {
      expect(ruleProps).toHaveProperty([m.id]);
      for (const opt of Object.keys(m.options ?? {})) {
        expect(shipped.properties[m.id].properties).toHaveProperty([opt]);
        expect(ruleProps[m.id].anyOf[1].items[1].properties).toHaveProperty([opt]);
      }
    }
    expect(allMetas().some((m) => m.options && Object.keys(m.options).length > 0)).toBe(true);
  });

  test('the package ships the schema folder', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
    expect(pkg.files).toContain('schema/');
  });
});


// ---------------------------------------------------------------------------------------------
// Formats

interface JsonFinding {
  ruleId: string;
  severity: string;
  message: string;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  suggestion?: string;
}

/** A file with errors, a warning, a suppressed finding, and names full of characters formats must escape. */
const FORMAT_FILES: Record<string, string> = {
  'db/V1__base.sql': 'CREATE TABLE orders (id bigint PRIMARY KEY, a int);\n',
  'db/V2__50%, really: yes.sql': [
    'CREATE TABLE nokey (a int);',
    '-- pgd-lint-ignore require-concurrent-index -- reviewed',
    'CREATE INDEX orders_a ON orders (a);',
    'BEGIN;',
    'LOCK TABLE orders;',
    'COMMIT;',
    'ALTER TABLE orders ADD CONSTRAINT "50% <off> & \'on\', really: yes" CHECK (a > 0);',
    '',
  ].join('\n'),
  'db/V3__clean.sql': 'CREATE TABLE fine (id bigint PRIMARY KEY);\n',
};

function formatRun(format: string, extra: string[] = []): { dir: string; out: string; code: number | null; json: { files: Array<{ path: string; findings: JsonFinding[] }> } } {
  const dir = repoDir(FORMAT_FILES);
  const r = cli(['db', '--format', format, ...extra], { cwd: dir });
  expect(r.stderr).toBe('');
  const j = cli(['db', '--format', 'json', ...extra], { cwd: dir });
  return { dir, out: r.stdout, code: r.code, json: JSON.parse(j.stdout) };
}

function jsonFindings(json: { files: Array<{ path: string; findings: JsonFinding[] }> }): Array<JsonFinding & { path: string }> {
  return json.files.flatMap((f) => f.findings.map((x) => ({ ...x, path: f.path })));
}

const BAD = path.join('db', 'V2__50%, really: yes.sql');

describe('--format compact', () => {
  test('path:line:col: severity: message [rule-id], one line per finding that is not suppressed', () => {
    const { out, code, json } = formatRun('compact');
    expect(code).toBe(1);
    const expected = jsonFindings(json).map((f) => `${f.path}:${f.line}:${f.column}: ${f.severity}: ${f.message} [${f.ruleId}]`);
    expect(expected.length).toBe(3);
    // Nothing but findings: editors read every line as one.
    expect(out).toBe(expected.join('\n') + '\n');
    expect(out).toContain(`${BAD}:1:1: error: `);
    expect(out).toMatch(/:5:1: warning: LOCK TABLE .* \[no-lock-table\]\n/);
    expect(out).not.toContain('require-concurrent-index');
  });
});

describe('--format github', () => {
  test('workflow commands with the position, the rule as title, and escaped properties and message', () => {
    const { out, code, json } = formatRun('github');
    expect(code).toBe(1);
    const lines = out.trimEnd().split('\n');
    const findings = jsonFindings(json);
    expect(lines.pop()).toBe('pgd-lint: 3 problems (2 errors, 1 warning) in 3 files checked against pgd5');
    expect(lines).toHaveLength(findings.length);
    const unescape = (s: string): string => s.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%3A/g, ':').replace(/%2C/g, ',').replace(/%25/g, '%');
    lines.forEach((line, i) => {
      const f = findings[i];
      const m = /^::(error|warning) ([^:]*)::(.*)$/.exec(line);
      expect(m).not.toBeNull();
      expect(m![1]).toBe(f.severity);
      const props = Object.fromEntries(m![2].split(',').map((kv) => [kv.slice(0, kv.indexOf('=')), unescape(kv.slice(kv.indexOf('=') + 1))]));
      expect(props).toEqual({
        file: f.path,
        line: String(f.line),
        col: String(f.column),
        endLine: String(f.endLine),
        endColumn: String(f.endColumn),
        title: f.ruleId,
      });
      expect(unescape(m![3])).toBe(f.suggestion ? `${f.message}\n\nSuggestion:\n${f.suggestion}` : f.message);
    });
    // The file name's %, comma and colon are escaped in the property; the message's % too.
    expect(out).toContain('file=db/V2__50%25%2C really%3A yes.sql,line=1,col=1,');
    expect(out).toMatch(/::error file=[^:]*,title=require-not-valid::[^\n]*"50%25 <off> & 'on', really: yes"/);
    expect(out).toContain('%0ASuggestion:%0A');
  });
});

describe('--format junit', () => {
  test('a testsuite per file, a failing testcase per finding, a passing one for a clean file; XML escaped', () => {
    const { out, code, json } = formatRun('junit');
    expect(code).toBe(1);
    expect(XMLValidator.validate(out)).toBe(true);
    const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (name) => ['testsuite', 'testcase'].includes(name) }).parse(out);
    const suites = xml.testsuites.testsuite as Array<{ name: string; tests: string; failures: string; testcase: Array<{ name: string; classname: string; failure?: { message: string; type: string; '#text': string } }> }>;
    expect(suites.map((s) => s.name)).toEqual(json.files.map((f) => f.path));
    const findings = jsonFindings(json);
    expect(xml.testsuites.failures).toBe(String(findings.length));
    for (const [i, suite] of suites.entries()) {
      const fileFindings = json.files[i].findings;
      expect(suite.failures).toBe(String(fileFindings.length));
      if (fileFindings.length === 0) {
        expect(suite.testcase).toHaveLength(1);
        expect(suite.testcase[0].failure).toBeUndefined();
        continue;
      }
      expect(suite.testcase.map((t) => t.failure?.message)).toEqual(fileFindings.map((f) => `${f.message} [${f.ruleId}]`));
      expect(suite.testcase.map((t) => t.failure?.type)).toEqual(fileFindings.map((f) => f.severity));
      expect(suite.testcase.every((t) => t.classname === json.files[i].path)).toBe(true);
      expect(suite.testcase[0].failure!['#text']).toContain(`${json.files[i].path}:${fileFindings[0].line}:${fileFindings[0].column}: ${fileFindings[0].severity}: `);
    }
    // The suppressed finding is not a failure; the clean file is a passing testcase.
    expect(out).not.toContain('require-concurrent-index');
    expect(suites[2]).toMatchObject({ name: path.join('db', 'V3__clean.sql'), tests: '1', failures: '0' });
    expect(out).toContain('&quot;50% &lt;off&gt; &amp; &apos;on&apos;, really: yes&quot;');
  });

  test('a run without findings is one passing testcase per file', () => {
    const dir = repoDir({ 'a.sql': 'SELECT 1;\n', 'b.sql': 'SELECT 2;\n' });
    const r = cli(['.', '--format', 'junit'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(XMLValidator.validate(r.stdout)).toBe(true);
    expect(r.stdout.match(/<testcase /g)).toHaveLength(2);
    expect(r.stdout).not.toContain('<failure');
    expect(r.stdout).toMatch(/<testsuites [^>]*tests="2" failures="0"/);
  });
});

describe('--format sarif', () => {
  const schema = JSON.parse(fs.readFileSync(path.join(__dirname, 'schemas', 'sarif-schema-2.1.0.json'), 'utf8'));
  const ajv = new AjvDraft04({ allErrors: true, strict: false });
  addFormats(ajv);
  const validateSarif = ajv.compile(schema);

  test('validates against the official SARIF 2.1.0 schema', () => {
    const { out, code } = formatRun('sarif');
    expect(code).toBe(1);
    const log = JSON.parse(out);
    const ok = validateSarif(log);
    expect(validateSarif.errors ?? []).toEqual([]);
    expect(ok).toBe(true);
    expect(log.version).toBe('2.1.0');
    // The validator does reject a broken log (the schema is really applied).
    const broken = JSON.parse(out);
    broken.runs[0].results[0].level = 'fatal';
    broken.runs[0].results[0].locations[0].physicalLocation.region.startLine = 0;
    expect(validateSarif(broken)).toBe(false);
  });

  test('results carry rule, level, region and message; suppressed findings are marked as suppressed', () => {
    const { out, dir, json } = formatRun('sarif');
    const run = JSON.parse(out).runs[0];
    const rules = run.tool.driver.rules as Array<{ id: string; helpUri: string; help: { text: string; markdown?: string }; shortDescription: { text: string }; defaultConfiguration: { level: string; enabled: boolean } }>;
    const live = run.results.filter((r: { suppressions?: unknown[] }) => !r.suppressions);
    const findings = jsonFindings(json);
    expect(live.map((r: { ruleId: string }) => r.ruleId)).toEqual(findings.map((f) => f.ruleId));
    for (const [i, r] of live.entries()) {
      const f = findings[i];
      expect(r.level).toBe(f.severity);
      expect(rules[r.ruleIndex].id).toBe(r.ruleId);
      expect(r.locations[0].physicalLocation.region).toEqual({ startLine: f.line, startColumn: f.column, endLine: f.endLine, endColumn: f.endColumn });
      expect(r.message.text.startsWith(f.message)).toBe(true);
      expect(typeof r.partialFingerprints['pgdLintFingerprint/v1']).toBe('string');
    }
    const suppressed = run.results.filter((r: { suppressions?: unknown[] }) => r.suppressions);
    expect(suppressed).toHaveLength(1);
    expect(suppressed[0].ruleId).toBe('require-concurrent-index');
    expect(suppressed[0].suppressions).toEqual([expect.objectContaining({ kind: 'inSource' })]);
    // Paths: relative URIs against %SRCROOT%, the folder pgd-lint ran in.
    const loc = live[0].locations[0].physicalLocation.artifactLocation;
    expect(loc).toMatchObject({ uri: 'db/V2__50%25%2C%20really%3A%20yes.sql', uriBaseId: '%SRCROOT%' });
    expect(decodeURIComponent(loc.uri)).toBe(BAD.split(path.sep).join('/'));
    expect(run.originalUriBaseIds['%SRCROOT%'].uri).toBe(new URL(`file://${dir}/`).href);
    expect(run.columnKind).toBe('unicodeCodePoints');
    expect(run.properties.target).toBe('pgd5');
    // Rule metadata: every rule, with its help link and docs page.
    expect(rules.map((r) => r.id)).toEqual(allMetas().map((m) => m.id));
    for (const r of rules) {
      expect(r.helpUri).toMatch(new RegExp(`docs/rules/${r.id}\\.md$`));
      expect(() => new URL(r.helpUri)).not.toThrow();
      expect(r.help.markdown).toContain(`# ${r.id}`);
      expect(r.shortDescription.text.length).toBeGreaterThan(10);
    }
    const byId = Object.fromEntries(rules.map((r) => [r.id, r]));
    expect(byId['no-lock-table'].defaultConfiguration).toEqual({ level: 'warning', enabled: true });
    expect(byId['require-ddl-locking-permit'].defaultConfiguration).toEqual({ level: 'none', enabled: false }); // bdr1 only
    expect(run.tool.driver.name).toBe('pgd-lint');
    expect(run.tool.driver.version).toBe(JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version);
  });

  test('configured severities are the rules\' configuration', () => {
    const { out } = formatRun('sarif', ['--rule', 'no-lock-table=error', '--target', 'bdr1']);
    const rules = JSON.parse(out).runs[0].tool.driver.rules as Array<{ id: string; defaultConfiguration: { level: string } }>;
    const byId = Object.fromEntries(rules.map((r) => [r.id, r.defaultConfiguration.level]));
    expect(byId['no-lock-table']).toBe('error');
    expect(byId['require-ddl-locking-permit']).toBe('error');
  });
});

// ---------------------------------------------------------------------------------------------
// --output-file

describe('--output-file', () => {
  test('writes the report to the file, nothing to standard output, same exit code', () => {
    const dir = repoDir({ 'm.sql': 'CREATE TABLE t (a int);\n' });
    const r = cli(['m.sql', '--format', 'json', '--output-file', 'report.json'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    const written = JSON.parse(fs.readFileSync(path.join(dir, 'report.json'), 'utf8'));
    expect(written.files[0].findings[0].ruleId).toBe('require-primary-key');
    // No temporary file is left next to it.
    expect(fs.readdirSync(dir).sort()).toEqual(['.git', 'm.sql', 'report.json']);
  });

  test('replaces an existing file whole, without colour codes', () => {
    const dir = repoDir({ 'm.sql': 'CREATE TABLE t (a int);\n', 'report.txt': 'x'.repeat(100000) });
    const r = cli(['m.sql', '-o', 'report.txt'], { cwd: dir, env: { FORCE_COLOR: '1' } });
    expect(r.code).toBe(1);
    const text = fs.readFileSync(path.join(dir, 'report.txt'), 'utf8');
    expect(text).toContain('require-primary-key');
    expect(text).not.toContain('x'.repeat(10));
    // eslint-disable-next-line no-control-regex
    expect(text).not.toMatch(/\u001b\[/);
  });

  test('a file that cannot be written is exit 2 naming it', () => {
    const dir = repoDir({ 'm.sql': 'SELECT 1;\n' });
    fs.mkdirSync(path.join(dir, 'adir'));
    for (const [target, why] of [
      ['missing/report.json', /--output-file .*missing\/report\.json: cannot write: no such directory/],
      ['adir', /--output-file .*adir: cannot write: is a directory/],
      ['m.sql/x', /--output-file .*m\.sql\/x: cannot write: a parent is not a directory/],
    ] as Array<[string, RegExp]>) {
      const r = cli(['m.sql', '--output-file', target], { cwd: dir });
      expect({ target, code: r.code }).toEqual({ target, code: 2 });
      expect(r.stderr).toMatch(why);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// --changed-since

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** A real git repository with an identity, in a temp folder. */
function gitRepo(files: Record<string, string>): string {
  const dir = tempDir(files);
  git(dir, 'init', '-q', '-b', 'main');
  git(dir, 'config', 'user.email', 'test@example.com');
  git(dir, 'config', 'user.name', 'Test');
  git(dir, 'config', 'commit.gpgsign', 'false');
  return dir;
}

function commitAll(dir: string, message: string): void {
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', message);
}

describe('--changed-since', () => {
  const INDEX = (n: string): string => `CREATE INDEX ${n} ON orders (a);\n`;

  function history(): string {
    const dir = gitRepo({
      'db/V1__orders.sql': 'CREATE TABLE orders (id bigint PRIMARY KEY, a int);\n',
      'db/V2__old_index.sql': INDEX('old_idx'),
    });
    commitAll(dir, 'first');
    git(dir, 'tag', 'deployed');
    fs.writeFileSync(path.join(dir, 'db', 'V3__committed.sql'), INDEX('committed_idx'));
    commitAll(dir, 'second');
    fs.writeFileSync(path.join(dir, 'db', 'V4__staged.sql'), INDEX('staged_idx'));
    git(dir, 'add', 'db/V4__staged.sql');
    fs.writeFileSync(path.join(dir, 'db', 'V5__untracked.sql'), INDEX('untracked_idx'));
    return dir;
  }

  const reported = (r: { stdout: string }): string[] => JSON.parse(r.stdout).files.map((f: { path: string }) => path.basename(f.path));

  test('reports files added or modified since the ref: committed, staged, unstaged and untracked', () => {
    const dir = history();
    const r = cli(['db', '--format', 'json', '--changed-since', 'deployed'], { cwd: dir });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(1);
    expect(reported(r)).toEqual(['V3__committed.sql', 'V4__staged.sql', 'V5__untracked.sql']);
    // An unstaged change to an old file brings it in.
    fs.appendFileSync(path.join(dir, 'db', 'V2__old_index.sql'), '-- reviewed\n');
    expect(reported(cli(['db', '--format', 'json', '--changed-since', 'deployed'], { cwd: dir }))).toEqual([
      'V2__old_index.sql',
      'V3__committed.sql',
      'V4__staged.sql',
      'V5__untracked.sql',
    ]);
    expect(reported(cli(['db', '--format', 'json', '--changed-since', 'HEAD'], { cwd: dir }))).toEqual(['V2__old_index.sql', 'V4__staged.sql', 'V5__untracked.sql']);
  });

  test('the earlier migrations are still replayed: the catalog knows their tables', () => {
    const dir = history();
    const r = cli(['db', '--format', 'json', '--changed-since', 'HEAD'], { cwd: dir });
    const findings = JSON.parse(r.stdout).files.flatMap((f: { findings: JsonFinding[] }) => f.findings);
    // "existing table orders": created in V1, which is not reported.
    expect(findings.map((f: JsonFinding) => f.ruleId)).toEqual(['require-concurrent-index', 'require-concurrent-index']);
    expect(findings[0].message).toContain('existing table "orders"');
    expect(JSON.parse(r.stdout).summary.files).toBe(2);
  });

  test('nothing changed: nothing reported, exit 0', () => {
    const dir = gitRepo({ 'db/V1.sql': 'CREATE TABLE t (a int);\n' });
    commitAll(dir, 'one');
    const r = cli(['db', '--format', 'json', '--changed-since', 'HEAD'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).files).toEqual([]);
    expect(cli(['db'], { cwd: dir }).code).toBe(1);
  });

  test('a branch reports its own changes, not what landed on the ref since it forked', () => {
    const dir = gitRepo({ 'db/V1.sql': 'CREATE TABLE orders (id bigint PRIMARY KEY, a int);\n' });
    commitAll(dir, 'one');
    git(dir, 'checkout', '-q', '-b', 'feature');
    fs.writeFileSync(path.join(dir, 'db', 'V3__feature.sql'), INDEX('feature_idx'));
    commitAll(dir, 'feature');
    git(dir, 'checkout', '-q', 'main');
    fs.writeFileSync(path.join(dir, 'db', 'V2__main.sql'), INDEX('main_idx'));
    commitAll(dir, 'main moves on');
    git(dir, 'checkout', '-q', 'feature');
    const r = cli(['db', '--format', 'json', '--changed-since', 'main'], { cwd: dir });
    expect(reported(r)).toEqual(['V3__feature.sql']);
  });

  test('from a sub-folder, with paths relative to it', () => {
    const dir = history();
    const r = cli(['.', '--format', 'json', '--changed-since', 'deployed'], { cwd: path.join(dir, 'db') });
    expect(reported(r)).toEqual(['V3__committed.sql', 'V4__staged.sql', 'V5__untracked.sql']);
  });

  test('a missing ref or a folder outside git is exit 2 with a clear message', () => {
    const dir = history();
    const missing = cli(['db', '--changed-since', 'no-such-branch'], { cwd: dir });
    expect(missing.code).toBe(2);
    expect(missing.stderr.trim()).toBe(`pgd-lint: --changed-since: unknown git ref "no-such-branch" (no such branch, tag or commit in ${fs.realpathSync(dir)})`);
    const dash = cli(['db', '--changed-since=--output=x'], { cwd: dir });
    expect(dash.code).toBe(2);
    expect(dash.stderr).toMatch(/"--output=x" is not a git ref/);
    const plain = tempDir({ 'db/V1.sql': 'SELECT 1;\n' });
    const outside = cli(['db', '--changed-since', 'HEAD'], { cwd: plain, env: { GIT_CEILING_DIRECTORIES: path.dirname(plain) } });
    expect(outside.code).toBe(2);
    expect(outside.stderr.trim()).toBe(`pgd-lint: --changed-since: ${plain} is not in a git repository`);
    const stdin = cli(['--stdin', '--changed-since', 'HEAD'], { cwd: dir, input: 'SELECT 1;' });
    expect(stdin.code).toBe(2);
    expect(stdin.stderr).toMatch(/--changed-since goes with paths or globs, not with --stdin/);
  });
});

// ---------------------------------------------------------------------------------------------
// Baselines

describe('--baseline / --write-baseline', () => {
  const OLD = [
    'CREATE TABLE legacy (a int);',
    'CREATE INDEX legacy_a ON orders (a);',
    'CREATE INDEX legacy_a ON orders (a);',
    '',
  ].join('\n');

  test('records the findings, then reports only new ones; line shifts and reformatting keep old ones hidden', () => {
    const dir = repoDir({ 'db/V1.sql': 'CREATE TABLE orders (id bigint PRIMARY KEY, a int);\n', 'db/V2.sql': OLD });
    const w = cli(['db', '--write-baseline', 'pgd-lint-baseline.json', '--format', 'json'], { cwd: dir });
    expect(w.stderr).toBe('pgd-lint: recorded 3 findings in pgd-lint-baseline.json\n');
    expect(w.code).toBe(0);
    expect(JSON.parse(w.stdout).summary.errors).toBe(0);
    const baseline = JSON.parse(fs.readFileSync(path.join(dir, 'pgd-lint-baseline.json'), 'utf8'));
    expect(baseline.version).toBe(1);
    expect(baseline.findings.map((f: { ruleId: string; path: string }) => [f.ruleId, f.path])).toEqual([
      ['require-primary-key', 'db/V2.sql'],
      ['require-concurrent-index', 'db/V2.sql'],
      ['require-concurrent-index', 'db/V2.sql'],
    ]);
    // Two identical statements get different fingerprints (occurrence index).
    expect(new Set(baseline.findings.map((f: { fingerprint: string }) => f.fingerprint)).size).toBe(3);

    expect(cli(['db'], { cwd: dir }).code).toBe(1);
    expect(cli(['db', '--baseline', 'pgd-lint-baseline.json'], { cwd: dir }).code).toBe(0);

    // Lines added above, whitespace and comments changed: still the same findings.
    fs.writeFileSync(
      path.join(dir, 'db', 'V2.sql'),
      ['-- legacy schema, reviewed', '', 'CREATE   TABLE legacy (', '  a int', ');', '/* twice */', 'CREATE INDEX legacy_a', '  ON orders (a);', 'CREATE INDEX legacy_a ON orders (a);', ''].join('\n'),
    );
    const shifted = cli(['db', '--baseline', 'pgd-lint-baseline.json', '--format', 'json'], { cwd: dir });
    expect(shifted.code).toBe(0);
    expect(JSON.parse(shifted.stdout).summary).toMatchObject({ errors: 0, warnings: 0 });

    // A new finding is reported, even one identical to a recorded statement (a third occurrence).
    fs.appendFileSync(path.join(dir, 'db', 'V2.sql'), 'CREATE INDEX legacy_a ON orders (a);\nCREATE TABLE newer (a int);\n');
    const added = cli(['db', '--baseline', 'pgd-lint-baseline.json', '--format', 'json'], { cwd: dir });
    expect(added.code).toBe(1);
    const left = JSON.parse(added.stdout).files[1].findings.map((f: JsonFinding) => [f.ruleId, f.line]);
    expect(left).toEqual([
      ['require-concurrent-index', 10],
      ['require-primary-key', 11],
    ]);
  });

  test('a finding in another file, or of another rule, is not covered', () => {
    const dir = repoDir({ 'a.sql': 'CREATE TABLE t (a int);\n' });
    cli(['a.sql', '--write-baseline', 'b.json'], { cwd: dir });
    fs.copyFileSync(path.join(dir, 'a.sql'), path.join(dir, 'b.sql'));
    const r = cli(['a.sql', 'b.sql', '--baseline', 'b.json', '--format', 'json'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).files.map((f: { findings: unknown[] }) => f.findings.length)).toEqual([0, 1]);
  });

  test('an unreadable or malformed baseline is exit 2', () => {
    const dir = repoDir({ 'a.sql': 'SELECT 1;\n', 'bad.json': '{"version": 2, "findings": []}', 'broken.json': '{', 'entry.json': '{"version": 1, "findings": [{"ruleId": "x"}]}' });
    const cases: Array<[string, RegExp]> = [
      ['missing.json', /--baseline .*missing\.json: cannot read: no such file/],
      ['bad.json', /bad\.json: not a pgd-lint baseline/],
      ['broken.json', /broken\.json: invalid JSON/],
      ['entry.json', /entry\.json: findings\[0\] needs string "ruleId", "path" and "fingerprint"/],
    ];
    for (const [file, msg] of cases) {
      const r = cli(['a.sql', '--baseline', file], { cwd: dir });
      expect({ file, code: r.code }).toEqual({ file, code: 2 });
      expect(r.stderr).toMatch(msg);
    }
    const w = cli(['a.sql', '--write-baseline', 'nowhere/b.json'], { cwd: dir });
    expect(w.code).toBe(2);
    expect(w.stderr).toMatch(/--write-baseline .*nowhere\/b\.json: cannot write: no such directory/);
  });
});

// ---------------------------------------------------------------------------------------------
// Progress

describe('progress line', () => {
  function many(n: number): string {
    const files: Record<string, string> = { 'db/V0000__base.sql': 'CREATE TABLE t (id bigint PRIMARY KEY, a int);\n' };
    for (let i = 1; i < n; i++) files[`db/V${String(i).padStart(4, '0')}__m.sql`] = `ALTER TABLE t ADD COLUMN c${i} int;\n`;
    return repoDir(files);
  }

  test('past 200 files, on standard error only, rewritten with \\r and erased at the end (forced with PGD_LINT_PROGRESS=1)', () => {
    const dir = many(201);
    const r = cli(['db', '--format', 'json'], { cwd: dir, env: { PGD_LINT_PROGRESS: '1' } });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).summary.files).toBe(201);
    expect(r.stdout).not.toContain('\r');
    expect(r.stderr).toContain('\rpgd-lint: parsing 201 files...');
    const updates = r.stderr.match(/\rpgd-lint: checking \d+\/201 files \(\d+%\)/g) ?? [];
    expect(updates.length).toBeGreaterThanOrEqual(50);
    expect(updates).toContain('\rpgd-lint: checking 101/201 files (50%)');
    // The last thing written blanks the line and returns the cursor: nothing is left on screen.
    expect(r.stderr).toMatch(/\r +\r$/);
    expect(r.stderr.replace(/\r[^\r]*/g, '')).toBe('');
  });

  test('not at 200 files, not without a terminal, not when PGD_LINT_PROGRESS=0', () => {
    const dir = many(200);
    expect(cli(['db'], { cwd: dir, env: { PGD_LINT_PROGRESS: '1' } }).stderr).toBe('');
    const more = many(201);
    expect(cli(['db'], { cwd: more }).stderr).toBe('');
    expect(cli(['db'], { cwd: more, env: { PGD_LINT_PROGRESS: '0' } }).stderr).toBe('');
  });
});

// ---------------------------------------------------------------------------------------------
// GitHub Action

describe('action.yml', () => {
  interface Step {
    name?: string;
    id?: string;
    uses?: string;
    if?: string;
    shell?: string;
    run?: string;
    env?: Record<string, string>;
    with?: Record<string, string>;
  }
  const action = YAML.parse(fs.readFileSync(path.join(ROOT, 'action.yml'), 'utf8')) as {
    name: string;
    description: string;
    inputs: Record<string, { description: string; default?: string }>;
    outputs: Record<string, { value: string }>;
    runs: { using: string; steps: Step[] };
  };

  test('a composite action with inputs paths, target, runner and format, that uploads SARIF to code scanning', () => {
    expect(action.name).toBe('pgd-lint');
    expect(action.runs.using).toBe('composite');
    for (const input of ['paths', 'target', 'runner', 'format', 'config', 'changed-since', 'sarif-file', 'upload-sarif']) {
      expect(action.inputs).toHaveProperty([input]);
      expect(action.inputs[input].description.length).toBeGreaterThan(10);
    }
    expect(action.inputs.format.default).toBe('sarif');
    const upload = action.runs.steps.find((s) => s.uses?.startsWith('github/codeql-action/upload-sarif@'));
    expect(upload).toBeDefined();
    expect(upload!.with!.sarif_file).toBe('${{ steps.lint.outputs.sarif-file }}');
    expect(upload!.if).toContain("inputs.upload-sarif == 'true'");
    expect(action.outputs['exit-code'].value).toBe('${{ steps.lint.outputs.exit-code }}');
    // Every step that runs a script names its shell (required in composite actions).
    for (const s of action.runs.steps) if (s.run) expect(s.shell).toBe('bash');
  });

  /** Runs the "Run pgd-lint" step's script the way a runner does, with the given inputs. */
  function runStep(cwd: string, inputs: Record<string, string>): { code: number | null; stdout: string; stderr: string; outputs: Record<string, string> } {
    const step = action.runs.steps.find((s) => s.id === 'lint')!;
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(step.env ?? {})) {
      env[k] = v.replace(/\$\{\{\s*([\w.-]+)\s*\}\}/g, (_, expr: string) => {
        if (expr === 'github.action_path') return ROOT;
        const m = /^inputs\.([\w-]+)$/.exec(expr);
        if (!m || !(m[1] in action.inputs)) throw new Error(`unexpected expression ${expr} in action.yml`);
        return inputs[m[1]] ?? action.inputs[m[1]].default ?? '';
      });
    }
    const outFile = path.join(cwd, '.github-output');
    fs.writeFileSync(outFile, '');
    const script = path.join(cwd, '.step.sh');
    fs.writeFileSync(script, step.run!);
    const r = spawnSync('bash', ['--noprofile', '--norc', '-eo', 'pipefail', script], {
      cwd,
      env: { ...process.env, ...env, GITHUB_OUTPUT: outFile, FORCE_COLOR: '0' },
      encoding: 'utf8',
      timeout: 60000,
    });
    const outputs = Object.fromEntries(
      fs
        .readFileSync(outFile, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    return { code: r.status, stdout: r.stdout, stderr: r.stderr, outputs };
  }

  test('the lint step writes SARIF with the inputs applied and defers the failure to after the upload', () => {
    const dir = repoDir({ 'db/V1__a b.sql': 'CREATE TABLE t (a int);\n', 'db/V2.sql': 'SELECT 1;\n', 'other/V9.sql': 'CREATE TABLE u (a int);\n' });
    const r = runStep(dir, { paths: 'db/*.sql', target: 'bdr1', runner: 'flyway' });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.outputs).toEqual({ 'exit-code': '1', 'sarif-file': 'pgd-lint.sarif' });
    const log = JSON.parse(fs.readFileSync(path.join(dir, 'pgd-lint.sarif'), 'utf8'));
    expect(log.runs[0].properties.target).toBe('bdr1');
    // The glob reached pgd-lint unexpanded (a file name with a space survives), and only db/ was linted.
    expect(log.runs[0].artifacts.map((a: { location: { uri: string } }) => decodeURIComponent(a.location.uri))).toEqual(['db/V1__a b.sql', 'db/V2.sql']);
  });

  test('other formats print to the log; several paths on separate lines; extra args', () => {
    const dir = repoDir({ 'a/V1.sql': 'CREATE TABLE t (a int);\n', 'b/V2.sql': 'LOCK TABLE t;\n' });
    const r = runStep(dir, { paths: 'a\nb', format: 'github', args: '--rule no-lock-table=error --max-warnings 0' });
    expect(r.code).toBe(0);
    expect(r.outputs).toEqual({ 'exit-code': '1' });
    expect(r.stdout).toMatch(/^::error file=a\/V1\.sql,.*title=require-primary-key::/m);
    expect(r.stdout).toMatch(/^::error file=b\/V2\.sql,.*title=no-lock-table::/m);
    expect(fs.existsSync(path.join(dir, 'pgd-lint.sarif'))).toBe(false);
    const clean = runStep(repoDir({ 'V1.sql': 'SELECT 1;\n' }), { paths: '.', format: 'compact' });
    expect(clean.outputs).toEqual({ 'exit-code': '0' });
  });

  test('a usage error fails the step at once, with no report to upload', () => {
    const dir = repoDir({ 'V1.sql': 'SELECT 1;\n' });
    const r = runStep(dir, { paths: '.', target: 'pgd9' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown target "pgd9"/);
    expect(r.outputs).toEqual({ 'exit-code': '2' });
  });
});

describe('documentation', () => {
  const ci = fs.readFileSync(path.join(ROOT, 'docs', 'ci.md'), 'utf8');

  test('docs/ci.md shows pre-commit, GitHub Actions and GitLab CI setups, and every rule option', () => {
    for (const heading of ['## pre-commit', '## GitHub Actions', '## GitLab CI', '## Config file reference']) expect(ci).toContain(heading);
    expect(ci).toContain('github/codeql-action/upload-sarif');
    expect(ci).toMatch(/reports:\n\s+junit: pgd-lint-junit\.xml/);
    for (const m of allMetas()) {
      for (const [opt, spec] of Object.entries(m.options ?? {})) expect(ci).toContain(`| \`${m.id}\` | \`${opt}\` | \`${String(spec.default)}\` |`);
    }
    for (const input of Object.keys(YAML.parse(fs.readFileSync(path.join(ROOT, 'action.yml'), 'utf8')).inputs)) expect(ci).toContain(`| \`${input}\` |`);
  });

  test('--help lists the workflow options', () => {
    const r = cli(['--help']);
    expect(r.code).toBe(0);
    for (const opt of ['--output-file', '--changed-since', '--baseline', '--write-baseline', '--print-config']) expect(r.stdout).toContain(opt);
  });
});

describe('config file (audit)', () => {
  test('rule options outside their range are configuration errors naming the file and option', () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ 'no-add-column-volatile-default': { batchSize: 0 } }, /batchSize" must be >= 1/],
      [{ 'no-rewriting-alter-type': { batchSize: 2.5 } }, /batchSize" must be integer/],
      [{ 'no-mixed-ddl-dml': { maxInsertRows: -1 } }, /maxInsertRows" must be >= 0/],
      [{ rules: { 'no-mixed-ddl-dml': ['warn', { maxInsertRows: 1.5 }] } }, /maxInsertRows" must be integer/],
      [{ 'require-concurrent-index': { indexStrategy: 'fast' } }, /indexStrategy" must be one of "concurrently", "run-on-all-nodes", got "fast"/],
    ];
    for (const [config, msg] of cases) {
      const dir = tempDir({ '.git/HEAD': '', 'pgd-lint.config.json': JSON.stringify(config), 'a.sql': 'SELECT 1;\n' });
      const r = cli(['a.sql'], { cwd: dir });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^pgd-lint: .*pgd-lint\.config\.json:1:\d+: /);
      expect(r.stderr).toMatch(msg);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
    const ok = tempDir({ '.git/HEAD': '', 'pgd-lint.config.json': JSON.stringify({ 'no-mixed-ddl-dml': { maxInsertRows: 0 } }), 'a.sql': 'SELECT 1;\n' });
    expect(cli(['a.sql'], { cwd: ok }).code).toBe(0);
  });

  test('include and exclude are relative to the discovered config file, from any sub-folder', () => {
    const dir = tempDir({
      '.git/HEAD': '',
      'pgd-lint.config.json': JSON.stringify({ include: ['db/**/*.sql'], exclude: ['db/legacy/**'] }),
      'db/migrations/001_a.sql': 'CREATE TABLE t (id int PRIMARY KEY, n text);\n',
      'db/migrations/002_b.sql': 'CREATE INDEX i ON t (n);\n',
      'db/legacy/001_x.sql': 'LOCK TABLE t;\n',
    });
    const atRoot = cli(['--format', 'compact'], { cwd: dir });
    expect(atRoot.stdout.trim().split('\n')).toEqual([expect.stringMatching(/^db\/migrations\/002_b\.sql:1:1: error: .*\[require-concurrent-index\]$/)]);
    // A folder on the command line: the excluded files stay out.
    const folder = cli(['db', '--format', 'compact'], { cwd: dir });
    expect(folder.stdout).not.toContain('legacy');
    expect(folder.stdout).toContain('db/migrations/002_b.sql:1:1');
    // From a sub-folder: the config's globs still mean the same files.
    const sub = cli(['--format', 'compact'], { cwd: path.join(dir, 'db') });
    expect(sub.stderr).toBe('');
    expect(sub.code).toBe(1);
    expect(sub.stdout.trim().split('\n')).toEqual([expect.stringMatching(/^\.\.\/db\/migrations\/002_b\.sql:1:1: error:/)]);
    const subFolder = cli(['.', '--format', 'compact'], { cwd: path.join(dir, 'db') });
    expect(subFolder.stdout).not.toContain('legacy');
    // --print-config shows the globs as written.
    expect(JSON.parse(cli(['--print-config'], { cwd: path.join(dir, 'db') }).stdout).exclude).toEqual(['db/legacy/**']);
  });
});

describe('sqitch (audit)', () => {
  test('deploy scripts run in sqitch.plan order, whether the project, its deploy folder or a glob is given', () => {
    const dir = tempDir({
      'sqitch.plan': [
        '%syntax-version=1.0.0',
        '%project=flipr',
        '',
        'users 2023-01-01T00:00:00Z A <a@example.com> # users',
        'flips [users] 2023-01-02T00:00:00Z A <a@example.com> # flips',
        '@v1.0 2023-01-03T00:00:00Z A <a@example.com> # tag',
        'appschema [flips] 2023-01-04T00:00:00Z A <a@example.com>',
        '',
      ].join('\n'),
      'deploy/users.sql': 'CREATE TABLE users (id int PRIMARY KEY, n text);\n',
      'deploy/flips.sql': 'CREATE TABLE flips (id int PRIMARY KEY, u int);\n',
      'deploy/appschema.sql': 'CREATE INDEX users_n ON users (n);\n',
      'revert/users.sql': 'DROP TABLE users;\n',
      'verify/users.sql': 'SELECT 1;\n',
    });
    const order = ['deploy/users.sql', 'deploy/flips.sql', 'deploy/appschema.sql'];
    for (const arg of ['.', 'deploy', 'deploy/*.sql']) {
      const r = cli(['--runner', 'sqitch', arg, '--format', 'json'], { cwd: dir });
      expect(r.stderr).toBe('');
      expect(JSON.parse(r.stdout).files.map((f: { path: string }) => f.path)).toEqual(order);
    }
  });
});
