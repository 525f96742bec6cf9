/**
 * The editor paths: `--stdin --stdin-filename PATH` replays the file's neighbours so that a finding
 * in the editor equals the finding in CI, and every recipe of docs/editors.md parses real output.
 */
import * as fs from 'fs';
import * as path from 'path';
import { pathToFileURL } from 'url';
import { ROOT, cli, tempDir } from './helpers/cli';
import { LspClient } from './helpers/lsp';

interface JsonFinding {
  ruleId: string;
  severity: string;
  message: string;
  line: number;
  column: number;
}

function findingsOf(stdout: string, file: string): JsonFinding[] {
  const report = JSON.parse(stdout) as { files: Array<{ path: string; findings: JsonFinding[] }> };
  const f = report.files.find((x) => x.path === file);
  if (!f) throw new Error(`no report for ${file} in ${stdout}`);
  return f.findings.map(({ ruleId, severity, message, line, column }) => ({ ruleId, severity, message, line, column }));
}

describe('--stdin --stdin-filename replays the neighbours', () => {
  const FIRST = 'CREATE TABLE orders (id bigint PRIMARY KEY, code varchar(10));\n';
  const SECOND = 'CREATE INDEX orders_code_idx ON orders (code);\nALTER TABLE orders ALTER COLUMN code TYPE varchar(20);\n';

  test('a table created in file 1 and indexed in file 2: the same findings as linting the folder', () => {
    const dir = tempDir({ 'dir/001.sql': FIRST, 'dir/002.sql': SECOND });
    const folder = cli(['dir', '--format', 'json'], { cwd: dir });
    const editor = cli(['--stdin', '--stdin-filename', 'dir/002.sql', '--format', 'json'], { cwd: dir, input: SECOND });
    expect(editor.stderr).toBe('');
    const expected = findingsOf(folder.stdout, 'dir/002.sql');
    expect(expected.map((f) => f.ruleId)).toEqual(['require-concurrent-index']);
    expect(expected[0].message).toContain('existing table "orders"');
    expect(findingsOf(editor.stdout, 'dir/002.sql')).toEqual(expected);
    // Only the piped file is reported: the neighbours are replayed, not linted.
    expect(JSON.parse(editor.stdout).files.map((f: { path: string }) => f.path)).toEqual(['dir/002.sql']);
    expect(editor.code).toBe(folder.code);
  });

  test('without the neighbours the column type is unknown (what the replay is for)', () => {
    const dir = tempDir({ 'alone/002.sql': SECOND });
    const r = cli(['--stdin', '--stdin-filename', 'alone/002.sql', '--format', 'json'], { cwd: dir, input: SECOND });
    expect(findingsOf(r.stdout, 'alone/002.sql').map((f) => f.ruleId)).toEqual(['require-concurrent-index', 'no-rewriting-alter-type']);
  });

  test('the piped text wins over the file on disk, and a table created in the same file is new', () => {
    const dir = tempDir({ 'dir/001.sql': FIRST, 'dir/002.sql': SECOND });
    const text = 'CREATE TABLE items (id bigint PRIMARY KEY, code text);\nCREATE INDEX items_code_idx ON items (code);\n';
    const r = cli(['--stdin', '--stdin-filename', 'dir/002.sql', '--format', 'json'], { cwd: dir, input: text });
    expect(r.stderr).toBe('');
    expect(findingsOf(r.stdout, 'dir/002.sql')).toEqual([]);
    expect(r.code).toBe(0);
  });

  test('migrations applied after the file count too: a primary key added in a later file', () => {
    const files = {
      'm/001.sql': 'CREATE TABLE events (id bigint NOT NULL, body text);\n',
      'm/002.sql': 'ALTER TABLE events ADD CONSTRAINT events_pkey PRIMARY KEY (id);\n',
    };
    const dir = tempDir(files);
    const folder = cli(['m', '--format', 'json'], { cwd: dir });
    expect(findingsOf(folder.stdout, 'm/001.sql').map((f) => f.ruleId)).not.toContain('require-primary-key');
    const editor = cli(['--stdin', '--stdin-filename', 'm/001.sql', '--format', 'json'], { cwd: dir, input: files['m/001.sql'] });
    expect(findingsOf(editor.stdout, 'm/001.sql')).toEqual(findingsOf(folder.stdout, 'm/001.sql'));
    // Alone, the same file is missing its primary key.
    const alone = cli(['--stdin', '--stdin-filename', 'other/001.sql', '--format', 'json'], { cwd: tempDir({ 'other/001.sql': files['m/001.sql'] }), input: files['m/001.sql'] });
    expect(findingsOf(alone.stdout, 'other/001.sql').map((f) => f.ruleId)).toContain('require-primary-key');
  });

  test("the runner's order decides what comes before: flyway versions, not names", () => {
    // By name V1_0_1__ sorts before V1__; flyway applies version 1 before version 1.0.1.
    const files = {
      'db/V1__create.sql': 'CREATE TABLE t (id bigint PRIMARY KEY, v varchar(10));\n',
      'db/V1_0_1__alter.sql': 'ALTER TABLE t ALTER COLUMN v TYPE varchar(20);\n',
    };
    const dir = tempDir(files);
    const piped = (runner: string) =>
      findingsOf(cli(['--stdin', '--stdin-filename', 'db/V1_0_1__alter.sql', '--runner', runner, '--format', 'json'], { cwd: dir, input: files['db/V1_0_1__alter.sql'] }).stdout, 'db/V1_0_1__alter.sql');
    const folder = findingsOf(cli(['db', '--runner', 'flyway', '--format', 'json'], { cwd: dir }).stdout, 'db/V1_0_1__alter.sql');
    expect(piped('flyway')).toEqual(folder);
    expect(folder.map((f) => f.ruleId)).not.toContain('no-rewriting-alter-type');
    // plain orders by name: the table comes later, so the type change is unproven.
    expect(piped('plain').map((f) => f.ruleId)).toContain('no-rewriting-alter-type');
  });

  test('a --stdin-filename that is only a label replays nothing from its folder', () => {
    const dir = tempDir({ 'other.sql': 'CREATE TABLE t (id bigint PRIMARY KEY, v varchar(10));\n' });
    const text = 'ALTER TABLE t ALTER COLUMN v TYPE varchar(20);\n';
    const r = cli(['--stdin', '--stdin-filename', 'alembic.sql', '--format', 'json'], { cwd: dir, input: text });
    expect(findingsOf(r.stdout, 'alembic.sql').map((f) => f.ruleId)).toEqual(['no-rewriting-alter-type']);
    expect(fs.existsSync(path.join(dir, 'alembic.sql'))).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------
// The recipes of docs/editors.md, read from the page itself so that page and test cannot drift.

const DOC = fs.readFileSync(path.join(ROOT, 'docs', 'editors.md'), 'utf8');

/** The code block right after `<!-- check: name -->` in docs/editors.md. */
function snippet(name: string): string {
  const m = new RegExp(`<!-- check: ${name} -->\\n\`\`\`[a-z]*\\n([\\s\\S]*?)\\n\`\`\`\\n`).exec(DOC);
  if (!m) throw new Error(`docs/editors.md has no code block marked "check: ${name}"`);
  return m[1];
}

const WORKSPACE = {
  'migrations/001.sql': 'CREATE TABLE orders (id bigint PRIMARY KEY, code text, status text);\n',
  'migrations/002.sql': [
    '-- orders: lookups by code',
    'CREATE INDEX orders_code_idx ON orders (code);',
    'LOCK TABLE orders IN SHARE MODE;',
    'SELEC 1;',
    'ALTER TABLE orders ALTER COLUMN status SET NOT NULL;',
    '',
  ].join('\n'),
};

interface Expected {
  file: string;
  line: number;
  column: number;
  severity: string;
  message: string;
  ruleId: string;
}

/** What a folder run reports for 002.sql (JSON), the reference every recipe must reproduce. */
function reference(dir: string, file: string): Expected[] {
  const r = cli(['migrations', '--format', 'json'], { cwd: dir });
  const got = findingsOf(r.stdout, 'migrations/002.sql').map((f) => ({ file, line: f.line, column: f.column, severity: f.severity, message: f.message, ruleId: f.ruleId }));
  // The workspace has errors, warnings, and a message with colons in it.
  expect(new Set(got.map((f) => f.severity))).toEqual(new Set(['error', 'warning']));
  expect(got.map((f) => f.ruleId)).toEqual(['require-concurrent-index', 'no-lock-table', 'syntax-error', 'no-set-not-null']);
  return got;
}

function lines(stdout: string): string[] {
  return stdout.split('\n').filter((l) => l !== '');
}

// A small reader for the Emacs Lisp snippets: strings, symbols and lists.
type Sexp = string | { str: string } | Sexp[];

function readSexps(text: string): Sexp[] {
  let i = 0;
  const skip = (): void => {
    for (;;) {
      while (i < text.length && /\s/.test(text[i])) i++;
      if (text[i] === ';') while (i < text.length && text[i] !== '\n') i++;
      else return;
    }
  };
  const read = (): Sexp => {
    skip();
    const c = text[i];
    if (c === "'") {
      i++;
      return read();
    }
    if (c === '#' && text[i + 1] === "'") {
      i += 2;
      return read();
    }
    if (c === '(') {
      i++;
      const list: Sexp[] = [];
      for (;;) {
        skip();
        if (text[i] === ')') {
          i++;
          return list;
        }
        if (i >= text.length) throw new Error('unbalanced parentheses');
        list.push(read());
      }
    }
    if (c === '"') {
      let s = '';
      for (i++; text[i] !== '"'; i++) s += text[i] === '\\' ? text[++i] : text[i];
      i++;
      return { str: s };
    }
    const m = /^[^\s()"']+/.exec(text.slice(i));
    if (!m) throw new Error(`cannot read elisp at ${text.slice(i, i + 20)}`);
    i += m[0].length;
    return m[0];
  };
  const out: Sexp[] = [];
  for (skip(); i < text.length; skip()) out.push(read());
  return out;
}

const isStr = (s: Sexp): s is { str: string } => typeof s === 'object' && !Array.isArray(s);
const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** Flycheck's rx forms (with its file-name, line, column, message and id groups) as a JS RegExp source. */
function rxToRegExp(forms: Sexp[]): string {
  const seq = (fs: Sexp[]): string => fs.map(one).join('');
  const charSet = (args: Sexp[]): string => args.map((a) => (isStr(a) ? a.str.replace(/[\]\\^]/g, '\\$&') : '')).join('');
  const one = (f: Sexp): string => {
    if (isStr(f)) return escapeRe(f.str);
    if (typeof f === 'string') {
      const symbols: Record<string, string> = {
        'line-start': '^',
        'line-end': '$',
        line: '(?<line>\\d+)',
        column: '(?<column>\\d+)',
        'not-newline': '.',
        nonl: '.',
        digit: '\\d',
      };
      if (!(f in symbols)) throw new Error(`rx symbol ${f} not understood by the test`);
      return symbols[f];
    }
    const [head, ...args] = f as Sexp[];
    switch (head) {
      case 'file-name':
        return `(?<file>${args.length ? seq(args) : '.+?'})`;
      case 'message':
        return `(?<message>${args.length ? seq(args) : '.+'})`;
      case 'id':
        return `(?<id>${seq(args)})`;
      case 'one-or-more':
      case '+':
        return `(?:${seq(args)})+`;
      case 'zero-or-more':
      case '*':
        return `(?:${seq(args)})*`;
      case 'minimal-match':
        return `${seq(args)}?`;
      case 'any':
        return `[${charSet(args)}]`;
      case 'not': {
        const inner = args[0] as Sexp[];
        if (!Array.isArray(inner) || inner[0] !== 'any') throw new Error('only (not (any ...)) is understood');
        return `[^${charSet(inner.slice(1))}]`;
      }
      case 'seq':
      case 'and':
      case ':':
        return seq(args);
      default:
        throw new Error(`rx form ${String(head)} not understood by the test`);
    }
  };
  return seq(forms);
}

/** Vim's 'errorformat' (the parts these recipes use) as JS RegExps, one per comma-separated format. */
function errorformatToRegExps(efm: string): RegExp[] {
  const formats: string[] = [];
  let cur = '';
  for (let i = 0; i < efm.length; i++) {
    if (efm[i] === '\\' && efm[i + 1] === ',') {
      cur += ',';
      i++;
    } else if (efm[i] === ',') {
      formats.push(cur);
      cur = '';
    } else cur += efm[i];
  }
  formats.push(cur);
  return formats.map((fmt) => {
    let re = '^';
    for (let i = 0; i < fmt.length; i++) {
      if (fmt[i] !== '%') {
        re += escapeRe(fmt[i]);
        continue;
      }
      const c = fmt[++i];
      if (c === 'f') {
        // Vim: a file name followed by a literal character matches lazily up to it (".\{-1,}").
        re += fmt[i + 1] !== undefined && fmt[i + 1] !== '%' && fmt[i + 1] !== '\\' ? '(?<file>.+?)' : '(?<file>\\S+)';
      } else if (c === 'l') re += '(?<line>\\d+)';
      else if (c === 'c') re += '(?<column>\\d+)';
      else if (c === 't') re += '(?<type>.)';
      else if (c === 'm') re += '(?<message>.+)';
      else if (c === '%') re += '%';
      else if (c === '*' && fmt[i + 1] === '[') {
        const end = fmt.indexOf(']', i + 2);
        re += `${fmt.slice(i + 1, end + 1)}+`;
        i = end;
      } else throw new Error(`errorformat item %${c} not understood by the test`);
    }
    return new RegExp(`${re}$`);
  });
}

/** Lua string literals and function values of a table constructor body. */
function luaList(body: string, fnValue: string): string[] {
  const out: string[] = [];
  const re = /'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)"|function\s*\([^)]*\)[\s\S]*?\bend\b/g;
  for (let m = re.exec(body); m; m = re.exec(body)) out.push(m[0].startsWith('function') ? fnValue : (m[1] ?? m[2]));
  return out;
}

describe('docs/editors.md recipes against real output', () => {
  test('VS Code tasks.json: the problem matcher reads every compact line', () => {
    const dir = tempDir(WORKSPACE);
    const expected = reference(dir, 'migrations/002.sql');
    const tasks = JSON.parse(snippet('vscode-tasks'));
    const task = tasks.tasks[0];
    expect(task.command).toBe('pgd-lint');
    const r = cli(task.args, { cwd: dir });
    expect(r.stderr).toBe('');
    const pm = task.problemMatcher;
    expect(pm.fileLocation).toEqual(['relative', '${workspaceFolder}']);
    const p = pm.pattern;
    const re = new RegExp(p.regexp);
    const got = lines(r.stdout).map((l) => {
      const m = re.exec(l);
      if (!m) throw new Error(`the problem matcher does not match: ${l}`);
      return { file: m[p.file], line: Number(m[p.line]), column: Number(m[p.column]), severity: m[p.severity], message: m[p.message], ruleId: m[p.code] };
    });
    expect(got).toEqual(expected);
  });

  test('nvim-lint: the command and errorformat read the on-save output', () => {
    const dir = tempDir(WORKSPACE);
    const file = path.join(dir, 'migrations', '002.sql');
    const expected = reference(dir, file);
    const lua = snippet('nvim-lint');
    expect(/cmd = '([^']+)'/.exec(lua)![1]).toBe('pgd-lint');
    expect(lua).toMatch(/stdin = true/);
    expect(lua).toMatch(/stream = 'stdout'/);
    const args = luaList(/args = \{([\s\S]*?)\},\n/.exec(lua)![1], file);
    expect(args).toContain(file);
    const efm = /from_errorformat\('((?:[^'\\]|\\.)*)'/.exec(lua)![1];
    const r = cli(args, { cwd: dir, input: WORKSPACE['migrations/002.sql'] });
    expect(r.stderr).toBe('');
    const res = errorformatToRegExps(efm);
    const got = lines(r.stdout).map((l) => {
      const m = res.map((re) => re.exec(l)).find((x) => x);
      if (!m) throw new Error(`the errorformat does not match: ${l}`);
      const g = m.groups!;
      // nvim-lint maps the type letter, upper-cased, to a severity.
      const severity = { E: 'error', W: 'warning' }[g.type.toUpperCase()];
      const id = /\[([a-z0-9-]+)\]$/.exec(g.message)![1];
      return { file: g.file, line: Number(g.line), column: Number(g.column), severity: severity ?? g.type, message: g.message.slice(0, -(id.length + 3)), ruleId: id };
    });
    expect(got).toEqual(expected);
  });

  test('Flycheck: the checker command and error patterns read the on-save output', () => {
    const dir = tempDir(WORKSPACE);
    const file = path.join(dir, 'migrations', '002.sql');
    const expected = reference(dir, file);
    const [def] = readSexps(snippet('flycheck')) as Sexp[][];
    expect(def[0]).toBe('flycheck-define-checker');
    const prop = (k: string): Sexp => def[def.indexOf(k) + 1];
    const command = (prop(':command') as Sexp[]).map((w) => (isStr(w) ? w.str : w === 'source-original' ? file : `<${String(w)}>`));
    expect(command[0]).toBe('pgd-lint');
    expect(prop(':standard-input')).toBe('t');
    const patterns = (prop(':error-patterns') as Sexp[][]).map(([level, ...forms]) => ({ level: level as string, re: new RegExp(rxToRegExp(forms)) }));
    expect(patterns.map((p) => p.level)).toEqual(['error', 'warning']);
    const r = cli(command.slice(1), { cwd: dir, input: WORKSPACE['migrations/002.sql'] });
    expect(r.stderr).toBe('');
    const got = lines(r.stdout).map((l) => {
      for (const p of patterns) {
        const m = p.re.exec(l);
        if (m) return { file: m.groups!.file, line: Number(m.groups!.line), column: Number(m.groups!.column), severity: p.level, message: m.groups!.message, ruleId: m.groups!.id };
      }
      throw new Error(`no error pattern matches: ${l}`);
    });
    expect(got).toEqual(expected);
  });

  test('language server recipes (VS Code, nvim-lspconfig, Eglot, Helix, Zed) start the server that answers', async () => {
    const commands: Record<string, string[]> = {};
    // VS Code: TransportKind.stdio makes vscode-languageclient append --stdio.
    const js = snippet('vscode-extension');
    const vs = /command: '([^']+)', args: \[([^\]]*)\], transport: TransportKind\.stdio/.exec(js)!;
    commands.vscode = [vs[1], ...luaList(vs[2], ''), '--stdio'];
    commands.lspconfig = luaList(/cmd = \{([^}]*)\}/.exec(snippet('nvim-lspconfig'))![1], '');
    const eglot = JSON.stringify(readSexps(snippet('eglot')));
    const program = /\["sql-mode","\.",\[((?:\{"str":"[^"]*"\},?)+)\]\]/.exec(eglot)!;
    commands.eglot = (JSON.parse(`[${program[1]}]`) as Array<{ str: string }>).map((s) => s.str);
    const helix = snippet('helix');
    commands.helix = [JSON.parse(/command = ("[^"]*")/.exec(helix)![1]), ...JSON.parse(/args = (\[[^\]]*\])/.exec(helix)![1])];
    expect(helix).toMatch(/language-servers = \["pgd-lint"\]/);
    const rust = snippet('zed-lib');
    commands.zed = [/which\("([^"]+)"\)/.exec(rust)![1], ...[.../vec!\[([^\]]*)\]/.exec(rust)![1].matchAll(/"([^"]*)"\.into\(\)/g)].map((m) => m[1])];
    expect(snippet('zed-extension')).toMatch(/\[language_servers\.pgd-lint\]/);
    const zedSettings = JSON.parse(snippet('zed-settings'));
    const binary = zedSettings.lsp['pgd-lint'].binary;
    commands.zedSettings = [path.basename(binary.path), ...binary.arguments];
    expect(zedSettings.languages.SQL.language_servers).toContain('pgd-lint');

    for (const [editor, words] of Object.entries(commands)) expect({ editor, words }).toEqual({ editor, words: ['pgd-lint', 'lsp', '--stdio'] });

    // They all start the same server: start it and lint a migration with its neighbour.
    const dir = tempDir(WORKSPACE);
    const client = new LspClient(commands.helix.slice(1), { cwd: dir });
    try {
      await client.request('initialize', { processId: process.pid, rootUri: pathToFileURL(dir).href, capabilities: {} });
      client.notify('initialized', {});
      const uri = pathToFileURL(path.join(dir, 'migrations', '002.sql')).href;
      const since = client.received.length;
      client.notify('textDocument/didOpen', { textDocument: { uri, languageId: 'sql', version: 1, text: WORKSPACE['migrations/002.sql'] } });
      const d = await client.diagnostics(uri, since, 1);
      expect(d.diagnostics.map((x: { code: string }) => x.code)).toEqual(reference(dir, '').map((f) => f.ruleId));
      expect(await client.stop()).toBe(0);
    } finally {
      client.kill();
    }
  });
});
