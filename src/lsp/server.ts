/**
 * `pgd-lint lsp [--stdio]`: the Language Server Protocol server over standard input/output.
 *
 * Diagnostics on open, on change (debounced) and on save; code actions (ignore the rule for the
 * statement or the file, apply the safe rewrite); hover on a flagged statement (its global lock on
 * the configured target). The parser stays loaded and parsed neighbour migrations are kept, so a
 * re-lint after a change parses only the changed document.
 *
 * initializationOptions (all optional): `configFile` (like --config, relative to the workspace
 * root) and `debounceMs` (delay after a change before linting; default 200).
 */
import * as path from 'path';
import { fileURLToPath } from 'url';
import { TextDocument } from 'vscode-languageserver-textdocument';
import {
  CodeActionKind,
  Connection,
  DidChangeWatchedFilesNotification,
  InitializeParams,
  InitializeResult,
  MessageType,
  ProposedFeatures,
  ShowMessageNotification,
  TextDocumentSyncKind,
  TextDocuments,
  createConnection,
} from 'vscode-languageserver/node';
import { UsageError } from '../input';
import { keepParsedFiles } from '../model';
import { loadParser } from '../parser';
import { packageInfo, ruleDocsUrl } from '../report-meta';
import { EditCapabilities, FIX_ALL_KIND, codeActions } from './actions';
import { Analysis, analyse, toDiagnostics } from './analysis';
import { hoverAt } from './hover';
import { CONFIG_FILE_NAMES, FileTexts, SettingsCache, isConfigFile } from './workspace';

const USAGE = 'usage: pgd-lint lsp [--stdio]\n\nThe pgd-lint language server, over standard input/output (docs/editors.md).\n';

export interface ServerOptions {
  configFile?: string;
  debounceMs?: number;
}

const SQL_LANGUAGES = new Set(['sql', 'pgsql', 'postgres', 'postgresql', 'plpgsql', 'psql']);

function filePathOf(uri: string): string | undefined {
  if (!uri.startsWith('file:')) return undefined;
  try {
    return fileURLToPath(uri);
  } catch {
    return undefined;
  }
}

/** The server's state; one per connection. */
export class PgdLintServer {
  private readonly documents = new TextDocuments(TextDocument);
  private readonly analyses = new Map<string, Analysis>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly texts = new FileTexts();
  private readonly reported = new Set<string>();
  private settings = new SettingsCache();
  private rootDir = process.cwd();
  private debounceMs = 200;
  private caps: EditCapabilities = { documentChanges: false, createFiles: false };
  private markdown = false;
  private watchDynamically = false;

  constructor(private readonly connection: Connection) {}

  listen(): void {
    const c = this.connection;
    c.onInitialize((p) => this.initialize(p));
    c.onInitialized(() => {
      if (this.watchDynamically) {
        const watchers = [...CONFIG_FILE_NAMES, '*.sql'].map((n) => ({ globPattern: `**/${n}` }));
        void c.client.register(DidChangeWatchedFilesNotification.type, { watchers }).catch(() => undefined);
      }
    });
    c.onShutdown(() => {
      for (const t of this.timers.values()) clearTimeout(t);
      this.timers.clear();
    });
    this.documents.onDidOpen((e) => this.validate(e.document.uri));
    this.documents.onDidChangeContent((e) => {
      // didOpen also reports its content: it was linted just now.
      if (this.analyses.get(e.document.uri)?.document.version === e.document.version) return;
      this.schedule(e.document.uri);
      this.scheduleNeighbours(e.document.uri);
    });
    this.documents.onDidSave((e) => {
      const file = filePathOf(e.document.uri);
      if (file) this.texts.forget(file);
      if (file && isConfigFile(file)) this.reloadConfig();
      else this.validate(e.document.uri);
    });
    this.documents.onDidClose((e) => {
      this.cancel(e.document.uri);
      this.analyses.delete(e.document.uri);
      void c.sendDiagnostics({ uri: e.document.uri, diagnostics: [] });
    });
    c.onDidChangeWatchedFiles((p) => {
      let config = false;
      for (const ch of p.changes) {
        const file = filePathOf(ch.uri);
        if (!file) continue;
        if (isConfigFile(file)) config = true;
        else this.texts.forget(file);
      }
      if (config) this.reloadConfig();
      else for (const d of this.documents.all()) this.schedule(d.uri);
    });
    c.onDidChangeConfiguration(() => this.reloadConfig());
    c.onCodeAction((p) => {
      const a = this.current(p.textDocument.uri);
      return a ? codeActions(a, p.range, p.context.diagnostics, p.context.only, this.caps) : [];
    });
    c.onHover((p) => {
      const a = this.current(p.textDocument.uri);
      return a ? hoverAt(a, a.document.offsetAt(p.position), this.markdown) : null;
    });
    this.documents.listen(c);
    c.listen();
  }

  private initialize(p: InitializeParams): InitializeResult {
    const opts = (p.initializationOptions ?? {}) as ServerOptions;
    const folder = p.workspaceFolders?.[0]?.uri ?? p.rootUri ?? undefined;
    this.rootDir = (folder && filePathOf(folder)) || p.rootPath || process.cwd();
    if (typeof opts.debounceMs === 'number' && opts.debounceMs >= 0) this.debounceMs = opts.debounceMs;
    this.settings = new SettingsCache(opts.configFile ? path.resolve(this.rootDir, opts.configFile) : undefined);
    const ws = p.capabilities.workspace;
    this.caps = {
      documentChanges: !!ws?.workspaceEdit?.documentChanges,
      createFiles: !!ws?.workspaceEdit?.resourceOperations?.includes('create'),
    };
    this.markdown = !!p.capabilities.textDocument?.hover?.contentFormat?.includes('markdown');
    this.watchDynamically = !!ws?.didChangeWatchedFiles?.dynamicRegistration;
    return {
      capabilities: {
        textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental, save: { includeText: false } },
        codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix, FIX_ALL_KIND] },
        hoverProvider: true,
      },
      serverInfo: { name: 'pgd-lint', version: packageInfo().version },
    };
  }

  private isSql(doc: TextDocument): boolean {
    return SQL_LANGUAGES.has(doc.languageId.toLowerCase()) || /\.sql$/i.test(doc.uri);
  }

  private cancel(uri: string): void {
    const t = this.timers.get(uri);
    if (t) clearTimeout(t);
    this.timers.delete(uri);
  }

  private schedule(uri: string): void {
    this.cancel(uri);
    this.timers.set(
      uri,
      setTimeout(() => {
        this.timers.delete(uri);
        this.validate(uri);
      }, this.debounceMs),
    );
  }

  /** Other open documents of the same folder replay this one: lint them again too. */
  private scheduleNeighbours(uri: string): void {
    const file = filePathOf(uri);
    if (!file) return;
    const dirs = new Set([path.dirname(file), path.dirname(path.dirname(file))]);
    for (const d of this.documents.all()) {
      const other = filePathOf(d.uri);
      if (d.uri !== uri && other && (dirs.has(path.dirname(other)) || dirs.has(path.dirname(path.dirname(other))))) this.schedule(d.uri);
    }
  }

  private reloadConfig(): void {
    this.settings.clear();
    this.reported.clear();
    for (const d of this.documents.all()) this.validate(d.uri);
  }

  /** The analysis of the document as it is now (linting it when it changed since). */
  private current(uri: string): Analysis | undefined {
    const doc = this.documents.get(uri);
    if (!doc) return undefined;
    const a = this.analyses.get(uri);
    if (a && a.document.version === doc.version) return a;
    return this.validate(uri);
  }

  private openTexts(): Map<string, string> {
    const open = new Map<string, string>();
    for (const d of this.documents.all()) {
      const file = filePathOf(d.uri);
      if (file) open.set(file, d.getText());
    }
    return open;
  }

  /** Lints a document now and publishes its diagnostics. */
  validate(uri: string): Analysis | undefined {
    this.cancel(uri);
    const doc = this.documents.get(uri);
    if (!doc || !this.isSql(doc)) return undefined;
    const filePath = filePathOf(uri);
    try {
      const settings = this.settings.forFolder(filePath ? path.dirname(filePath) : this.rootDir);
      const open = this.openTexts();
      const a = analyse(doc, { filePath, settings, read: (abs, shown) => open.get(abs) ?? this.texts.read(abs, shown) });
      this.analyses.set(uri, a);
      for (const u of a.unreadable) this.once(`pgd-lint: neighbour left out: ${u}`, 'warn');
      void this.connection.sendDiagnostics({ uri, version: doc.version, diagnostics: toDiagnostics(a, ruleDocsUrl) });
      return a;
    } catch (e) {
      this.analyses.delete(uri);
      if (e instanceof UsageError) {
        // A broken config: say so once, and show no findings rather than wrong ones.
        this.once(`pgd-lint: ${e.message}`, 'error');
        void this.connection.sendDiagnostics({ uri, version: doc.version, diagnostics: [] });
      } else {
        this.connection.console.error(`pgd-lint: internal error linting ${uri}: ${(e as Error)?.message ?? String(e)}`);
      }
      return undefined;
    }
  }

  private once(message: string, level: 'warn' | 'error'): void {
    if (this.reported.has(message)) return;
    this.reported.add(message);
    if (level === 'error') void this.connection.sendNotification(ShowMessageNotification.type, { type: MessageType.Error, message });
    else this.connection.console.warn(message);
  }
}

/** Runs the server until the client sends exit (the library then ends the process). */
export async function serve(argv: string[]): Promise<number> {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--help' || a === '-h') {
      process.stdout.write(USAGE);
      return 0;
    }
    if (a === '--stdio') continue;
    // Some clients pass their process id; the initialize request carries it too.
    if (/^--clientProcessId=\d+$/.test(a)) continue;
    if (a === '--clientProcessId' && /^\d+$/.test(argv[i + 1] ?? '')) {
      i++;
      continue;
    }
    throw new UsageError(`lsp: unknown argument "${a}" (the server talks over standard input/output: --stdio)`);
  }
  await loadParser();
  // The neighbours are the same from one change to the next: parse them once.
  keepParsedFiles(5000);
  const connection = createConnection(ProposedFeatures.all, process.stdin, process.stdout);
  new PgdLintServer(connection).listen();
  return new Promise<number>(() => undefined);
}
