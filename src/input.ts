/**
 * Input: files, folders (recursive *.sql), globs and standard input, decoded as UTF-8 (with or
 * without BOM, CRLF or LF) and put in the order the runner applies them.
 */
import * as fs from 'fs';
import * as path from 'path';
import fg from 'fast-glob';
import { InputFile } from './model';
import { RunnerPreset } from './runners';

/** An input problem: exit 2 with a one-line message. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

const decoder = new TextDecoder('utf-8', { fatal: true });

/** Decodes bytes as UTF-8 text; throws UsageError naming `label` when they are not. */
export function decodeText(bytes: Buffer, label: string): string {
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch {
    const bad = firstInvalidUtf8(bytes);
    throw new UsageError(`${label}:${bad.line}:${bad.column}: not UTF-8 text (invalid byte 0x${bad.byte.toString(16).padStart(2, '0')})`);
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  return text;
}

function firstInvalidUtf8(bytes: Buffer): { line: number; column: number; byte: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < bytes.length; ) {
    const b = bytes[i];
    const len = b < 0x80 ? 1 : b >= 0xc2 && b < 0xe0 ? 2 : b >= 0xe0 && b < 0xf0 ? 3 : b >= 0xf0 && b < 0xf5 ? 4 : 0;
    let ok = len > 0 && i + len <= bytes.length;
    for (let k = 1; ok && k < len; k++) ok = (bytes[i + k] & 0xc0) === 0x80;
    if (ok && len > 1) ok = decoderOk(bytes.subarray(i, i + len));
    if (!ok) {
      // Columns count characters (code points), as in every other position the tool reports.
      const column = [...Buffer.from(bytes.subarray(lineStart, i)).toString('utf8')].length + 1;
      return { line, column, byte: b };
    }
    if (b === 10) {
      line++;
      lineStart = i + 1;
    }
    i += len;
  }
  return { line, column: 1, byte: 0 };
}

function decoderOk(seq: Buffer): boolean {
  try {
    decoder.decode(seq);
    return true;
  } catch {
    return false;
  }
}

function isGlob(p: string): boolean {
  return fg.isDynamicPattern(p.replace(/\\/g, '/'));
}

function readFile(abs: string, shown: string): string {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(abs);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : code === 'ELOOP' ? 'too many levels of symbolic links' : (e as Error).message;
    throw new UsageError(`${shown}: cannot read file: ${why}`);
  }
  return decodeText(bytes, shown);
}

/** Reads a flyway `<file>.sql.conf` next to a file, if there is one. */
function readConf(abs: string): string | undefined {
  try {
    return fs.readFileSync(`${abs}.conf`, 'utf8');
  } catch {
    return undefined;
  }
}

export interface CollectOptions {
  runner: RunnerPreset;
  cwd: string;
  /** Globs to leave out (config `exclude`). */
  exclude?: string[];
  /** Keep down migrations (--include-down). */
  includeDown: boolean;
}

interface Found {
  abs: string;
  shown: string;
  rel: string;
}

/**
 * The order in which the runner applies files: by file name (migration versions live in names,
 * whatever sub-folder a file sits in), then by the whole path (prisma's folders, equal names).
 */
function applyOrder(runner: RunnerPreset): (a: string, b: string) => number {
  return (a, b) => runner.compare(path.posix.basename(a), path.posix.basename(b)) || runner.compare(a, b);
}

/**
 * The files below a folder, as paths relative to it: regular files, and symlinks to files (linted
 * as the glob `folder/*.sql` does). Symlinks to folders are not followed (no loops); a dangling
 * symlink or a symlink loop is no file and is left out, as globs leave it out. A folder that
 * cannot be read (the folder itself or one below it) is a UsageError naming it: its migrations
 * would otherwise go unlinted without a word.
 */
function walkFolder(abs: string, shown: string, ignore: string[]): string[] {
  let entries: fg.Entry[];
  try {
    entries = fg.sync('**/*', { cwd: abs, onlyFiles: false, objectMode: true, ignore, followSymbolicLinks: false, suppressErrors: false, dot: false });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const where = typeof err.path === 'string' && path.isAbsolute(err.path) ? path.join(shown, path.relative(abs, err.path)) : shown;
    throw new UsageError(`${where}: cannot read folder: ${readFailure(err)}`);
  }
  const files: string[] = [];
  for (const entry of entries) {
    if (entry.dirent.isFile()) files.push(entry.path);
    else if (entry.dirent.isSymbolicLink() && safeStat(path.join(abs, entry.path))?.isFile()) files.push(entry.path);
  }
  return files;
}

function readFailure(e: NodeJS.ErrnoException): string {
  const code = e.code;
  if (code === 'ENOENT') return 'no such file or directory';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'ENOTDIR') return 'not a directory';
  if (code === 'ELOOP') return 'too many levels of symbolic links';
  return code ?? e.message;
}

/** Resolves the paths and globs of the command line to files in apply order. */
export function collectFiles(args: string[], opts: CollectOptions): InputFile[] {
  const found: Found[] = [];
  const seen = new Set<string>();
  const add = (f: Found): void => {
    if (seen.has(f.abs)) return;
    seen.add(f.abs);
    found.push(f);
  };
  const ignore = ['**/node_modules/**', '**/.git/**', ...(opts.exclude ?? [])];
  for (const arg of args) {
    const abs = path.resolve(opts.cwd, arg);
    let stat: fs.Stats | undefined;
    try {
      stat = fs.statSync(abs);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ELOOP') throw new UsageError(`${arg}: too many levels of symbolic links`);
      if (code === 'EACCES') throw new UsageError(`${arg}: permission denied`);
      stat = undefined;
    }
    if (stat?.isDirectory()) {
      const entries = walkFolder(abs, arg, ignore);
      // A file's place is judged on its path below the folder and on its path from the current
      // folder (`pgd-lint --runner sqitch deploy`: the scripts are `deploy/<change>.sql`).
      const fromCwd = (rel: string): string => path.relative(opts.cwd, path.join(abs, rel)).replace(/\\/g, '/');
      const migrations = entries.filter((rel) => (opts.runner.isMigration(rel) || opts.runner.isMigration(fromCwd(rel))) && (opts.includeDown || !(opts.runner.isDownFile(rel) || opts.runner.isDownFile(fromCwd(rel)))));
      migrations.sort(applyOrder(opts.runner));
      for (const rel of migrations) add({ abs: path.join(abs, rel), shown: path.join(arg, rel), rel });
    } else if (stat) {
      add({ abs, shown: arg, rel: path.basename(arg) });
    } else if (isGlob(arg)) {
      const matches = fg.sync(arg.replace(/\\/g, '/'), { cwd: opts.cwd, onlyFiles: true, ignore, suppressErrors: true });
      if (matches.length === 0) throw new UsageError(`${arg}: no files match this pattern`);
      matches.sort(applyOrder(opts.runner));
      for (const m of matches) add({ abs: path.resolve(opts.cwd, m), shown: m, rel: m });
    } else {
      throw new UsageError(`${arg}: no such file or directory`);
    }
  }
  if (opts.runner.name === 'sqitch') sqitchPlanOrder(found);
  return found.map((f) => {
    const stat = safeStat(f.abs);
    if (stat?.isDirectory()) throw new UsageError(`${f.shown}: is a directory`);
    return { path: f.shown, rel: f.rel.replace(/\\/g, '/'), text: readFile(f.abs, f.shown), conf: opts.runner.name === 'flyway' ? readConf(f.abs) : undefined, report: true };
  });
}

/**
 * Sqitch applies changes in the order of `sqitch.plan` (docs/runners.md), not by name: deploy
 * scripts of a project with a plan (the folder above `deploy/`) are put in plan order; other files
 * keep their order, after them. A reworked change's earlier script, `deploy/<change>@<tag>.sql`,
 * takes the change's place before that tag; the current `deploy/<change>.sql` its last place.
 */
function sqitchPlanOrder(found: Found[]): void {
  const plans = new Map<string, Plan | undefined>();
  const place = (abs: string): number | undefined => {
    const m = /^(.*)\/deploy\/(.+)\.sql$/i.exec(abs.replace(/\\/g, '/'));
    if (!m) return undefined;
    if (!plans.has(m[1])) plans.set(m[1], readPlan(path.join(m[1], 'sqitch.plan')));
    const plan = plans.get(m[1]);
    if (!plan) return undefined;
    const at = m[2].lastIndexOf('@');
    const name = at > 0 ? m[2].slice(0, at) : m[2];
    const before = at > 0 ? (plan.tags.get(m[2].slice(at + 1)) ?? -1) : Infinity;
    const places = plan.changes.filter((c) => c.name === name && c.index < before);
    return places.length > 0 ? places[places.length - 1].index : undefined;
  };
  const keyed = found.map((f, i) => ({ f, i, p: place(f.abs) ?? Infinity }));
  keyed.sort((a, b) => (a.p === b.p ? a.i - b.i : a.p < b.p ? -1 : 1));
  found.splice(0, found.length, ...keyed.map((k) => k.f));
}

interface Plan {
  changes: Array<{ name: string; index: number }>;
  /** Tag name to the number of changes before it. */
  tags: Map<string, number>;
}

/** The change lines of a sqitch.plan (`name [deps] time planner <email> # note`), `%` pragmas and `@tag` lines. */
function readPlan(file: string): Plan | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const changes: Plan['changes'] = [];
  const tags = new Map<string, number>();
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith('%')) continue;
    if (line.startsWith('@')) {
      tags.set(line.slice(1).split(/\s/)[0], changes.length);
      continue;
    }
    const name = line.split(/\s/)[0].replace(/^[+-]/, '');
    if (name !== '') changes.push({ name, index: changes.length });
  }
  return changes.length > 0 ? { changes, tags } : undefined;
}

function safeStat(p: string): fs.Stats | undefined {
  try {
    return fs.statSync(p);
  } catch {
    return undefined;
  }
}

/** Reads standard input as one file. */
export function readStdin(name: string): InputFile {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(0);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EAGAIN' || code === 'EOF') bytes = Buffer.alloc(0);
    else throw new UsageError(`<stdin>: cannot read: ${(e as Error).message}`);
  }
  return { path: name, rel: path.basename(name), text: decodeText(bytes, name), report: true };
}
