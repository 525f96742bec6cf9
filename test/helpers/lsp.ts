/**
 * A tiny Language Server Protocol client for the tests: runs `pgd-lint lsp --stdio` (the built
 * CLI) as a subprocess and speaks JSON-RPC with Content-Length framing over its stdio.
 */
import { ChildProcessWithoutNullStreams, spawn } from 'child_process';
import { BIN } from './cli';

export interface Message {
  jsonrpc: '2.0';
  id?: number | string | null;
  method?: string;
  params?: any;
  result?: any;
  error?: { code: number; message: string; data?: unknown };
}

interface Waiter {
  match: (m: Message) => boolean;
  resolve: (m: Message) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
  what: string;
}

/** Encodes one JSON-RPC message with its header. */
export function frame(message: object): Buffer {
  const body = Buffer.from(JSON.stringify(message), 'utf8');
  return Buffer.concat([Buffer.from(`Content-Length: ${body.length}\r\n\r\n`, 'ascii'), body]);
}

/** Splits a byte stream into messages; returns the complete ones and keeps the rest. */
export class Framer {
  private buf = Buffer.alloc(0);

  push(chunk: Buffer): Message[] {
    this.buf = Buffer.concat([this.buf, chunk]);
    const out: Message[] = [];
    for (;;) {
      const headerEnd = this.buf.indexOf('\r\n\r\n');
      if (headerEnd === -1) return out;
      const header = this.buf.subarray(0, headerEnd).toString('ascii');
      const m = /Content-Length:\s*(\d+)/i.exec(header);
      if (!m) throw new Error(`bad header: ${header}`);
      const length = Number(m[1]);
      const start = headerEnd + 4;
      if (this.buf.length < start + length) return out;
      out.push(JSON.parse(this.buf.subarray(start, start + length).toString('utf8')) as Message);
      this.buf = this.buf.subarray(start + length);
    }
  }
}

export interface ClientOptions {
  cwd?: string;
  /** Answers to requests from the server (client/registerCapability, ...); default null. */
  onRequest?: (m: Message) => unknown;
}

export class LspClient {
  readonly proc: ChildProcessWithoutNullStreams;
  /** Every message from the server, in order. */
  readonly received: Message[] = [];
  stderr = '';
  private nextId = 1;
  private readonly framer = new Framer();
  private waiters: Waiter[] = [];
  private readonly exited: Promise<number | null>;

  constructor(args: string[] = ['lsp', '--stdio'], private readonly opts: ClientOptions = {}) {
    this.proc = spawn(process.execPath, [BIN, ...args], { cwd: opts.cwd, env: { ...process.env, FORCE_COLOR: '0' } });
    this.proc.stdout.on('data', (chunk: Buffer) => {
      for (const m of this.framer.push(chunk)) this.dispatch(m);
    });
    this.proc.stderr.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString('utf8');
    });
    this.exited = new Promise((resolve) => this.proc.on('exit', (code) => resolve(code)));
  }

  private dispatch(m: Message): void {
    this.received.push(m);
    if (m.method !== undefined && m.id !== undefined) {
      // A request from the server: answer it.
      const result = this.opts.onRequest ? this.opts.onRequest(m) : null;
      this.write({ jsonrpc: '2.0', id: m.id, result: result ?? null });
    }
    for (const w of [...this.waiters]) {
      if (w.match(m)) {
        clearTimeout(w.timer);
        this.waiters = this.waiters.filter((x) => x !== w);
        w.resolve(m);
      }
    }
  }

  write(message: object): void {
    this.proc.stdin.write(frame(message));
  }

  /** Waits for a message from the server (already received ones count only when `since` is given). */
  waitFor(match: (m: Message) => boolean, what: string, since?: number, timeoutMs = 30000): Promise<Message> {
    if (since !== undefined) {
      const found = this.received.slice(since).find(match);
      if (found) return Promise.resolve(found);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x.timer !== timer);
        reject(new Error(`no ${what} from the server; stderr: ${this.stderr}; received: ${JSON.stringify(this.received.map((r) => r.method ?? r.id))}`));
      }, timeoutMs);
      this.waiters.push({ match, resolve, reject, timer, what });
    });
  }

  async request(method: string, params: unknown): Promise<any> {
    const id = this.nextId++;
    const reply = this.waitFor((m) => m.id === id && m.method === undefined, `reply to ${method}`);
    this.write({ jsonrpc: '2.0', id, method, params });
    const m = await reply;
    if (m.error) throw new Error(`${method}: ${m.error.message}`);
    return m.result;
  }

  notify(method: string, params: unknown): void {
    this.write({ jsonrpc: '2.0', method, params });
  }

  /** The next publishDiagnostics for `uri` (with `version`, when given) after message number `since`. */
  diagnostics(uri: string, since: number, version?: number): Promise<any> {
    return this.waitFor(
      (m) => m.method === 'textDocument/publishDiagnostics' && m.params.uri === uri && (version === undefined || m.params.version === version),
      `diagnostics for ${uri}${version !== undefined ? ` version ${version}` : ''}`,
      since,
    ).then((m) => m.params);
  }

  /** shutdown, exit, and the process's exit code. */
  async stop(): Promise<number | null> {
    await this.request('shutdown', null);
    this.notify('exit', null);
    return this.exited;
  }

  kill(): void {
    if (this.proc.exitCode === null) this.proc.kill();
  }

  exitCode(): Promise<number | null> {
    return this.exited;
  }
}

interface Pos {
  line: number;
  character: number;
}
export interface TextEdit {
  range: { start: Pos; end: Pos };
  newText: string;
}

/** Applies LSP text edits (UTF-16 positions) to a text. */
export function applyEdits(text: string, edits: TextEdit[]): string {
  const lineStarts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === '\n') lineStarts.push(i + 1);
  const offset = (p: Pos): number => Math.min((lineStarts[p.line] ?? text.length) + p.character, text.length);
  const sorted = [...edits].sort((a, b) => offset(b.range.start) - offset(a.range.start));
  let out = text;
  for (const e of sorted) out = out.slice(0, offset(e.range.start)) + e.newText + out.slice(offset(e.range.end));
  return out;
}

/** The text edits a WorkspaceEdit makes to one document (`changes` or `documentChanges`). */
export function editsFor(edit: any, uri: string): TextEdit[] {
  if (edit.changes) return edit.changes[uri] ?? [];
  return (edit.documentChanges ?? []).filter((c: any) => c.textDocument?.uri === uri).flatMap((c: any) => c.edits);
}
