/**
 * Workflows, through the built CLI as a subprocess: the config file and its schema, the CI formats
 * (sarif, github, compact, junit), --output-file, --changed-since, baselines, progress, action.yml.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import Ajv from 'ajv';
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
      ['{ "no-mixed-ddl-dml": { "maxInsertRows": "many" } }', /1:42: "no-mixed-ddl-dml\.maxInsertRows" must be number$/],
      ['{ "require-primary-key": {} }', /unknown key "require-primary-key": the rule "require-primary-key" takes no options/],
      ['{ "include": "migrations" }', /"include" must be array$/],
      ['{ "rules": { "no-lock-table": "off", } }', /pgd-lint\.config\.json:1:37: invalid JSON/],
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
    expect(r.stderr.trim()).toBe(`pgd-lint: ${path.join(pkg, 'package.json')}:3:26: unknown rule id "nope" in "rules"`);
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

void execFileSync;
