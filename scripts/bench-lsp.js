#!/usr/bin/env node
'use strict';
/**
 * How long the language server takes to lint a 200-line migration again after a change, once the
 * first lint is done: the built `pgd-lint lsp --stdio` runs as a subprocess (as editors run it)
 * with its debounce set to 0, a document with earlier migrations beside it is opened, then changed
 * again and again; each change is timed from the didChange notification to the publishDiagnostics
 * of that version. Prints one JSON line: {"lspRelintMs": <median>}.
 *
 * Usage: node scripts/bench-lsp.js [--runs N] [--neighbours N]   (npm run build first)
 * Also a module: require('./bench-lsp').benchLsp({ runs, neighbours }) resolves to the same object.
 */
const { spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { pathToFileURL } = require('url');
const { makeHistory } = require('./bench-corpus');

const ROOT = path.join(__dirname, '..');
const BIN = path.join(ROOT, 'bin', 'pgd-lint.js');
const LINES = 200;

function frame(message) {
  const body = Buffer.from(JSON.stringify(message), 'utf8');
  return Buffer.concat([Buffer.from(`Content-Length: ${body.length}\r\n\r\n`, 'ascii'), body]);
}

/** A minimal JSON-RPC client over the server's stdio (Content-Length framing). */
function client(cwd) {
  const proc = spawn(process.execPath, [BIN, 'lsp', '--stdio'], { cwd, stdio: ['pipe', 'pipe', 'inherit'] });
  let buf = Buffer.alloc(0);
  const waiters = [];
  proc.stdout.on('data', (chunk) => {
    buf = Buffer.concat([buf, chunk]);
    for (;;) {
      const end = buf.indexOf('\r\n\r\n');
      if (end === -1) break;
      const len = Number(/Content-Length:\s*(\d+)/i.exec(buf.subarray(0, end).toString('ascii'))[1]);
      if (buf.length < end + 4 + len) break;
      const msg = JSON.parse(buf.subarray(end + 4, end + 4 + len).toString('utf8'));
      buf = buf.subarray(end + 4 + len);
      if (msg.method !== undefined && msg.id !== undefined) proc.stdin.write(frame({ jsonrpc: '2.0', id: msg.id, result: null }));
      for (const w of waiters.splice(0)) {
        if (w.match(msg)) w.resolve(msg);
        else waiters.push(w);
      }
    }
  });
  const exited = new Promise((resolve) => proc.on('exit', resolve));
  let id = 0;
  return {
    send: (m) => proc.stdin.write(frame({ jsonrpc: '2.0', ...m })),
    wait: (match) => new Promise((resolve) => waiters.push({ match, resolve })),
    request(method, params) {
      const rid = ++id;
      const reply = this.wait((m) => m.id === rid && m.method === undefined);
      this.send({ id: rid, method, params });
      return reply;
    },
    exited,
    kill: () => proc.kill(),
  };
}

/** A folder with `neighbours` earlier migrations and a document of about LINES lines after them. */
function workspace(neighbours) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pgd-lint-bench-lsp-'));
  const h = makeHistory(7);
  for (let i = 1; i <= neighbours; i++) fs.writeFileSync(path.join(dir, `${String(i).padStart(4, '0')}_m.sql`), h.file());
  let text = '';
  while (text.split('\n').length < LINES) text += h.file();
  const file = path.join(dir, `${String(neighbours + 1).padStart(4, '0')}_doc.sql`);
  fs.writeFileSync(file, text);
  return { dir, file, text };
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

async function benchLsp({ runs = 40, neighbours = 10 } = {}) {
  if (!fs.existsSync(path.join(ROOT, 'dist', 'src', 'lsp', 'server.js'))) throw new Error('dist/ is missing the language server: run `npm run build` first');
  const ws = workspace(neighbours);
  const c = client(ws.dir);
  try {
    await c.request('initialize', { processId: process.pid, rootUri: pathToFileURL(ws.dir).href, capabilities: {}, initializationOptions: { debounceMs: 0 } });
    c.send({ method: 'initialized', params: {} });
    const uri = pathToFileURL(ws.file).href;
    const published = (version) => c.wait((m) => m.method === 'textDocument/publishDiagnostics' && m.params.uri === uri && m.params.version === version);
    let first = published(1);
    c.send({ method: 'textDocument/didOpen', params: { textDocument: { uri, languageId: 'sql', version: 1, text: ws.text } } });
    await first;
    const times = [];
    for (let v = 2; v < runs + 2; v++) {
      // A small edit, as typing makes: the trailing comment changes every time.
      const text = `${ws.text}-- edit ${v}\n`;
      first = published(v);
      const t0 = process.hrtime.bigint();
      c.send({ method: 'textDocument/didChange', params: { textDocument: { uri, version: v }, contentChanges: [{ text }] } });
      await first;
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    await c.request('shutdown', null);
    c.send({ method: 'exit', params: null });
    await c.exited;
    return { lspRelintMs: Math.round(median(times) * 100) / 100 };
  } finally {
    c.kill();
    fs.rmSync(ws.dir, { recursive: true, force: true });
  }
}

module.exports = { benchLsp };

if (require.main === module) {
  const arg = (name, dflt) => {
    const i = process.argv.indexOf(name);
    return i === -1 ? dflt : Number(process.argv[i + 1]);
  };
  benchLsp({ runs: arg('--runs', 40), neighbours: arg('--neighbours', 10) }).then(
    (r) => process.stdout.write(`${JSON.stringify(r)}\n`),
    (e) => {
      process.stderr.write(`bench-lsp: ${e.message}\n`);
      process.exitCode = 2;
    },
  );
}
