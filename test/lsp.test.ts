/**
 * The language server as editors run it: `pgd-lint lsp --stdio` as a subprocess, JSON-RPC over its
 * standard input/output.
 */
import * as fs from 'fs';
import * as path from 'path';
import { pathToFileURL } from 'url';
import { cli, tempDir } from './helpers/cli';
import { LspClient, applyEdits, editsFor } from './helpers/lsp';

const CREATE = 'CREATE TABLE orders (id bigint PRIMARY KEY, code varchar(10), status text);\n';
const BAD = ['-- orders by code', '  CREATE INDEX orders_code_idx ON orders (code);', 'ALTER TABLE orders ADD COLUMN created_at timestamptz DEFAULT now();', ''].join('\n');
const GOOD = ['-- orders by code', '  CREATE INDEX CONCURRENTLY orders_code_idx ON orders (code);', 'ALTER TABLE orders ADD COLUMN created_at timestamptz;', ''].join('\n');

const CAPABILITIES = {
  workspace: { workspaceEdit: { documentChanges: true, resourceOperations: ['create'] } },
  textDocument: { hover: { contentFormat: ['markdown', 'plaintext'] }, codeAction: { codeActionLiteralSupport: { codeActionKind: { valueSet: ['quickfix', 'source.fixAll'] } } } },
};

const clients: LspClient[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.kill();
});

async function start(root: string, capabilities: object = CAPABILITIES, initializationOptions: object = { debounceMs: 20 }): Promise<{ client: LspClient; init: any }> {
  const client = new LspClient(['lsp', '--stdio'], { cwd: root });
  clients.push(client);
  const init = await client.request('initialize', { processId: process.pid, rootUri: pathToFileURL(root).href, capabilities, initializationOptions });
  client.notify('initialized', {});
  return { client, init };
}

function open(client: LspClient, file: string, text: string, version = 1): { uri: string; since: number } {
  const uri = pathToFileURL(file).href;
  const since = client.received.length;
  client.notify('textDocument/didOpen', { textDocument: { uri, languageId: 'sql', version, text } });
  return { uri, since };
}

function change(client: LspClient, uri: string, text: string, version: number): number {
  const since = client.received.length;
  client.notify('textDocument/didChange', { textDocument: { uri, version }, contentChanges: [{ text }] });
  return since;
}

const codes = (d: any): string[] => d.diagnostics.map((x: any) => x.code);

describe('pgd-lint lsp', () => {
  test('diagnostics, code actions, a good version, hover, shutdown and exit', async () => {
    const root = tempDir({ 'migrations/001_create.sql': CREATE, 'migrations/002_change.sql': BAD });
    const file = path.join(root, 'migrations', '002_change.sql');
    const { client, init } = await start(root);
    expect(init.serverInfo.name).toBe('pgd-lint');
    expect(init.capabilities.hoverProvider).toBe(true);
    expect(init.capabilities.codeActionProvider.codeActionKinds).toContain('quickfix');

    // didOpen a bad migration: its findings, with the neighbour 001 replayed (orders exists).
    const { uri, since } = open(client, file, BAD);
    const first = await client.diagnostics(uri, since, 1);
    expect(codes(first)).toEqual(['require-concurrent-index', 'no-add-column-volatile-default']);
    const index = first.diagnostics[0];
    expect(index).toMatchObject({
      source: 'pgd-lint',
      severity: 1,
      code: 'require-concurrent-index',
      range: { start: { line: 1, character: 2 }, end: { line: 1, character: 47 } },
    });
    expect(index.message).toContain('existing table "orders"');
    expect(index.codeDescription.href).toMatch(/docs\/rules\/require-concurrent-index\.md$/);
    if (index.codeDescription.href.startsWith('file:')) expect(fs.existsSync(new URL(index.codeDescription.href))).toBe(true);

    // Code actions on the CREATE INDEX.
    const actions: any[] = await client.request('textDocument/codeAction', { textDocument: { uri }, range: index.range, context: { diagnostics: [index] } });
    const titles = actions.map((a) => a.title);
    expect(titles).toEqual(
      expect.arrayContaining(['Apply the safe rewrite (require-concurrent-index)', 'Ignore require-concurrent-index for this statement', 'Ignore require-concurrent-index for this file']),
    );
    expect(titles.some((t) => t.includes('no-add-column-volatile-default'))).toBe(false);
    const byTitle = (t: string): any => actions.find((a) => a.title === t);
    for (const a of actions.filter((x) => x.kind === 'quickfix')) expect(a.diagnostics).toEqual([index]);
    // Both findings have a rewrite: one action applies both.
    const all = byTitle('Apply every safe rewrite of this file (pgd-lint)');
    expect(all.kind).toBe('source.fixAll.pgd-lint');
    const allFixed = applyEdits(BAD, editsFor(all.edit, uri));
    expect(allFixed).toContain('CREATE INDEX CONCURRENTLY');
    expect(allFixed).not.toContain('timestamptz DEFAULT now()');
    expect(allFixed).toContain('ALTER COLUMN created_at SET DEFAULT now()');
    // The same text --fix writes for that file (its neighbours replayed the same way).
    const fixed = cli(['--stdin', '--stdin-filename', path.join('migrations', '002_change.sql'), '--fix'], { cwd: root, input: BAD });
    expect(allFixed).toBe(fixed.stdout);

    const ignored = applyEdits(BAD, editsFor(byTitle('Ignore require-concurrent-index for this statement').edit, uri));
    expect(ignored).toBe(['-- orders by code', '  -- pgd-lint-ignore require-concurrent-index', '  CREATE INDEX orders_code_idx ON orders (code);', BAD.split('\n')[2], ''].join('\n'));
    const fileIgnored = applyEdits(BAD, editsFor(byTitle('Ignore require-concurrent-index for this file').edit, uri));
    expect(fileIgnored).toBe(`-- pgd-lint-ignore-file require-concurrent-index\n${BAD}`);
    const rewritten = applyEdits(BAD, editsFor(byTitle('Apply the safe rewrite (require-concurrent-index)').edit, uri));
    expect(rewritten).toContain('CREATE INDEX CONCURRENTLY orders_code_idx ON orders (code);');
    expect(rewritten).toContain('ADD COLUMN created_at timestamptz DEFAULT now()');

    // The inserted directive does what it says: the finding goes, and the directive is used.
    let s = change(client, uri, ignored, 2);
    expect(codes(await client.diagnostics(uri, s, 2))).toEqual(['no-add-column-volatile-default']);
    s = change(client, uri, fileIgnored, 3);
    expect(codes(await client.diagnostics(uri, s, 3))).toEqual(['no-add-column-volatile-default']);
    s = change(client, uri, rewritten, 4);
    expect(codes(await client.diagnostics(uri, s, 4))).toEqual(['no-add-column-volatile-default']);

    // A good version: no diagnostics.
    s = change(client, uri, GOOD, 5);
    expect((await client.diagnostics(uri, s, 5)).diagnostics).toEqual([]);

    // Hover on a flagged statement says which global lock it takes on the target.
    s = change(client, uri, BAD, 6);
    await client.diagnostics(uri, s, 6);
    const hover = await client.request('textDocument/hover', { textDocument: { uri }, position: { line: 1, character: 10 } });
    expect(hover.contents.kind).toBe('markdown');
    expect(hover.contents.value).toContain('**pgd5**');
    expect(hover.contents.value).toContain('the global DML lock (every data node must answer');
    expect(hover.contents.value).toContain('`require-concurrent-index` (error)');
    expect(hover.contents.value).toContain('CREATE INDEX CONCURRENTLY');
    expect(hover.range.start).toEqual({ line: 1, character: 2 });
    // Not on a statement without findings (the comment line).
    expect(await client.request('textDocument/hover', { textDocument: { uri }, position: { line: 0, character: 3 } })).toBeNull();

    expect(await client.stop()).toBe(0);
  });

  test('a table created in the same document is new; one created in an earlier file is not', async () => {
    const root = tempDir({ 'm/001.sql': CREATE });
    const { client } = await start(root);
    const same = open(client, path.join(root, 'm', '002.sql'), 'CREATE TABLE items (id bigint PRIMARY KEY, code text);\nCREATE INDEX items_code_idx ON items (code);\n');
    expect(codes(await client.diagnostics(same.uri, same.since, 1))).toEqual([]);
    // The document's buffer is what is linted, whatever is on disk (002.sql does not exist).
    const earlier = open(client, path.join(root, 'm', '003.sql'), 'CREATE INDEX orders_status_idx ON orders (status);\n');
    expect(codes(await client.diagnostics(earlier.uri, earlier.since, 1))).toEqual(['require-concurrent-index']);
    expect(await client.stop()).toBe(0);
  });

  test('the config is discovered as the CLI does and reloaded when it changes', async () => {
    const root = tempDir({ '.git/HEAD': 'ref: refs/heads/main\n', 'db/001.sql': CREATE, 'db/002.sql': BAD });
    const { client } = await start(root);
    const { uri, since } = open(client, path.join(root, 'db', '002.sql'), BAD);
    expect(codes(await client.diagnostics(uri, since, 1))).toEqual(['require-concurrent-index', 'no-add-column-volatile-default']);

    // PGD 6: the volatile default is a warning; hover names the leader DML lock.
    const config = path.join(root, 'pgd-lint.config.json');
    fs.writeFileSync(config, JSON.stringify({ target: 'pgd6', rules: { 'require-concurrent-index': 'warn' } }));
    let s = client.received.length;
    client.notify('workspace/didChangeWatchedFiles', { changes: [{ uri: pathToFileURL(config).href, type: 1 }] });
    let d = await client.diagnostics(uri, s);
    expect(d.diagnostics.map((x: any) => [x.code, x.severity])).toEqual([
      ['require-concurrent-index', 2],
      ['no-add-column-volatile-default', 2],
    ]);
    const hover = await client.request('textDocument/hover', { textDocument: { uri }, position: { line: 1, character: 4 } });
    expect(hover.contents.value).toContain('the leader DML lock');

    // A broken config: one error message, and no findings rather than wrong ones.
    fs.writeFileSync(config, JSON.stringify({ target: 'pgd9' }));
    s = client.received.length;
    client.notify('workspace/didChangeWatchedFiles', { changes: [{ uri: pathToFileURL(config).href, type: 2 }] });
    const message = await client.waitFor((m) => m.method === 'window/showMessage', 'showMessage', s);
    expect(message.params.type).toBe(1);
    expect(message.params.message).toMatch(/unknown target "pgd9"/);
    d = await client.diagnostics(uri, s);
    expect(d.diagnostics).toEqual([]);

    // Deleted: back to the defaults.
    fs.unlinkSync(config);
    s = client.received.length;
    client.notify('workspace/didChangeWatchedFiles', { changes: [{ uri: pathToFileURL(config).href, type: 3 }] });
    d = await client.diagnostics(uri, s);
    expect(d.diagnostics.map((x: any) => [x.code, x.severity])).toEqual([
      ['require-concurrent-index', 1],
      ['no-add-column-volatile-default', 1],
    ]);
    expect(await client.stop()).toBe(0);
  });

  test('a rewrite that adds migrations (flyway) creates the files when the client can, and is not offered when it cannot', async () => {
    const files = {
      'pgd-lint.config.json': JSON.stringify({ runner: 'flyway' }),
      'db/V1__create.sql': 'CREATE TABLE orders (id bigint PRIMARY KEY, code text);\n',
      'db/V2__idx.sql': 'ALTER TABLE orders ADD COLUMN note text;\nCREATE INDEX orders_code_idx ON orders (code);\n',
    };
    const root = tempDir({ '.git/HEAD': '', ...files });
    const file = path.join(root, 'db', 'V2__idx.sql');
    const ask = async (client: LspClient): Promise<any[]> => {
      const { uri, since } = open(client, file, files['db/V2__idx.sql']);
      const d = await client.diagnostics(uri, since, 1);
      expect(codes(d)).toEqual(['require-concurrent-index']);
      return client.request('textDocument/codeAction', { textDocument: { uri }, range: d.diagnostics[0].range, context: { diagnostics: d.diagnostics } });
    };

    const able = await start(root);
    const actions = await ask(able.client);
    const rewrite = actions.find((a) => a.title === 'Apply the safe rewrite (require-concurrent-index)');
    const changes: any[] = rewrite.edit.documentChanges;
    const created = changes.filter((c) => c.kind === 'create').map((c) => path.basename(new URL(c.uri).pathname));
    expect(created).toEqual(['V2.1__idx_pgd_lint_step1.sql', 'V2.1__idx_pgd_lint_step1.sql.conf']);
    const newUri = changes.find((c) => c.kind === 'create').uri;
    expect(applyEdits('', editsFor(rewrite.edit, newUri))).toContain('CREATE INDEX CONCURRENTLY orders_code_idx ON orders (code);');
    const ownUri = pathToFileURL(file).href;
    expect(applyEdits(files['db/V2__idx.sql'], editsFor(rewrite.edit, ownUri))).not.toContain('CREATE INDEX');
    expect(changes.find((c) => c.textDocument?.uri === ownUri).textDocument.version).toBe(1);
    expect(await able.client.stop()).toBe(0);

    const unable = await start(root, { workspace: { workspaceEdit: { documentChanges: true } } });
    const titles = (await ask(unable.client)).map((a) => a.title);
    expect(titles).toContain('Ignore require-concurrent-index for this statement');
    expect(titles).not.toContain('Apply the safe rewrite (require-concurrent-index)');
    expect(await unable.client.stop()).toBe(0);
  });

  test('"every safe rewrite" writes what --fix writes, also when one statement needs two passes', async () => {
    const files = {
      'm/001.sql': 'CREATE TABLE customers (id bigint PRIMARY KEY);\nCREATE TABLE orders (id bigint PRIMARY KEY, code text);\n',
      'm/002.sql': 'ALTER TABLE orders ADD COLUMN customer_id bigint DEFAULT (random() * 10)::bigint REFERENCES customers (id);\n',
    };
    const root = tempDir(files);
    const { client } = await start(root);
    const { uri, since } = open(client, path.join(root, 'm', '002.sql'), files['m/002.sql']);
    const d = await client.diagnostics(uri, since, 1);
    expect(codes(d)).toEqual(['no-add-column-volatile-default', 'require-not-valid']);
    const actions: any[] = await client.request('textDocument/codeAction', { textDocument: { uri }, range: d.diagnostics[0].range, context: { diagnostics: d.diagnostics } });
    const all = actions.find((a) => a.kind === 'source.fixAll.pgd-lint');
    const fixed = cli(['--stdin', '--stdin-filename', 'm/002.sql', '--fix'], { cwd: root, input: files['m/002.sql'] });
    expect(fixed.stdout).toContain('NOT VALID');
    expect(applyEdits(files['m/002.sql'], editsFor(all.edit, uri))).toBe(fixed.stdout);
    // One finding's rewrite is that rewrite alone: the foreign key is left for its own action.
    const one = actions.find((a) => a.title === 'Apply the safe rewrite (no-add-column-volatile-default)');
    const once = applyEdits(files['m/002.sql'], editsFor(one.edit, uri));
    expect(once).toContain('ALTER COLUMN customer_id SET DEFAULT');
    expect(once).not.toContain('NOT VALID');
    expect(await client.stop()).toBe(0);
  });

  test('a statement that shares its line with another moves under its directive', async () => {
    const root = tempDir({ 'm/001.sql': CREATE });
    const { client } = await start(root, { workspace: {} });
    const text = 'SELECT 1;   CREATE INDEX orders_code_idx ON orders (code);\n';
    const { uri, since } = open(client, path.join(root, 'm', '002.sql'), text);
    const d = await client.diagnostics(uri, since, 1);
    const actions: any[] = await client.request('textDocument/codeAction', { textDocument: { uri }, range: d.diagnostics[0].range, context: { diagnostics: d.diagnostics } });
    const edit = actions.find((a) => a.title === 'Ignore require-concurrent-index for this statement').edit;
    // Without documentChanges support: a plain `changes` map.
    expect(Object.keys(edit.changes)).toEqual([uri]);
    const fixed = applyEdits(text, editsFor(edit, uri));
    expect(fixed).toBe('SELECT 1;\n-- pgd-lint-ignore require-concurrent-index\nCREATE INDEX orders_code_idx ON orders (code);\n');
    const s = change(client, uri, fixed, 2);
    expect(codes(await client.diagnostics(uri, s, 2))).toEqual([]);
    expect(await client.stop()).toBe(0);
  });

  test('exit without shutdown exits 1; bad arguments exit 2', async () => {
    const root = tempDir();
    const { client } = await start(root);
    client.notify('exit', null);
    expect(await client.exitCode()).toBe(1);
    const bad = new LspClient(['lsp', '--socket=5000'], { cwd: root });
    clients.push(bad);
    expect(await bad.exitCode()).toBe(2);
    expect(bad.stderr).toMatch(/^pgd-lint: lsp: unknown argument "--socket=5000"/);
  });
});
