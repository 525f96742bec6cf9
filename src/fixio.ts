/**
 * Writing fixes: atomic writes (temporary file in the same folder, then rename, mode kept), the
 * unified diff of --fix-dry-run, and the inputs of the fixed run for --verify.
 */
import * as fs from 'fs';
import * as path from 'path';
import { createTwoFilesPatch } from 'diff';
import { FilePlan, planFixes } from './fix';
import { UsageError } from './input';
import { LintOptions, LintResult, lint } from './lint';
import type { InputFile } from './model';
import { writeFailure } from './output';

/**
 * Why `file` cannot be written, or undefined when it can (as far as can be told before writing): a
 * read-only file (no write permission bit at all, which even root is refused: a rename would
 * otherwise replace it), a file the user may not write, or a folder in which no temporary file can
 * be made. `mustNotExist` refuses a file that is already there.
 */
export function cannotWrite(file: string, opts: { mustNotExist?: boolean } = {}): string | undefined {
  let st: fs.Stats | undefined;
  try {
    st = fs.statSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') return writeFailure(e);
  }
  if (st) {
    if (opts.mustNotExist) return 'already exists; not overwritten';
    if (st.isDirectory()) return 'is a directory';
    if ((st.mode & 0o222) === 0) return 'read-only file';
    try {
      fs.accessSync(file, fs.constants.W_OK);
    } catch (e) {
      return (e as NodeJS.ErrnoException).code === 'EROFS' ? 'read-only file system' : 'permission denied';
    }
  }
  const dir = path.dirname(st ? realTarget(file) : file);
  try {
    if (fs.statSync(dir).isDirectory()) fs.accessSync(dir, fs.constants.W_OK | fs.constants.X_OK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    // A folder that is not there yet is made when the file is written.
    if (code !== 'ENOENT') return writeFailure(e);
  }
  return undefined;
}

/** The file a path names: a symlink's target, so that a rewrite keeps the link. */
function realTarget(file: string): string {
  try {
    return fs.realpathSync(file);
  } catch {
    return file;
  }
}

/**
 * Writes a file so that it is either untouched or completely rewritten, never half-written: the
 * text goes to a temporary file in the same folder, which is renamed over the file (through a
 * symlink to its target). A failure is a UsageError naming the file as `shown` (the path as the
 * user gave it).
 */
export function writeAtomic(file: string, text: string, opts: { mustNotExist?: boolean; shown?: string } = {}): void {
  const shown = opts.shown ?? file;
  const refused = cannotWrite(file, opts);
  if (refused !== undefined) throw new UsageError(`${shown}: ${opts.mustNotExist && refused.startsWith('already exists') ? refused : `cannot write: ${refused}`}`);
  let mode = 0o644;
  const target = realTarget(file);
  try {
    mode = fs.statSync(target).mode & 0o7777;
  } catch {
    /* a new file */
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { randomBytes } = require('crypto') as typeof import('crypto'); // only when writing
  const tmp = path.join(path.dirname(target), `.${path.basename(target)}.pgd-lint-${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
  try {
    fs.mkdirSync(path.dirname(target), { recursive: true });
    const fd = fs.openSync(tmp, 'wx', mode);
    try {
      fs.writeFileSync(fd, text);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.chmodSync(tmp, mode);
    fs.renameSync(tmp, target);
  } catch (e) {
    try {
      fs.unlinkSync(tmp);
    } catch {
      /* nothing to clean */
    }
    if (e instanceof UsageError) throw e;
    throw new UsageError(`${shown}: cannot write: ${writeFailure(e)}`);
  }
}

/**
 * Applies plans: rewritten files and new files. Every target is checked first (a new file that
 * already exists, a read-only file, a folder that cannot be written), so that a refusal leaves
 * every file as it was. Returns the paths written.
 */
export function writePlans(plans: FilePlan[], cwd: string): string[] {
  const targets: Array<{ path: string; text: string; isNew: boolean }> = [];
  for (const p of plans) {
    if (p.text !== p.original) targets.push({ path: p.path, text: p.text, isNew: false });
    for (const nf of p.newFiles) {
      targets.push({ path: nf.path, text: nf.text, isNew: true });
      if (nf.conf !== undefined) targets.push({ path: `${nf.path}.conf`, text: nf.conf, isNew: true });
    }
  }
  for (const t of targets) {
    if (t.isNew && fs.existsSync(path.resolve(cwd, t.path))) throw new UsageError(`${t.path}: already exists; not overwritten (nothing was written)`);
  }
  for (const t of targets) {
    const refused = cannotWrite(path.resolve(cwd, t.path), { mustNotExist: t.isNew });
    if (refused !== undefined) throw new UsageError(`${t.path}: cannot write: ${refused} (nothing was written)`);
  }
  const written: string[] = [];
  for (const t of targets) {
    writeAtomic(path.resolve(cwd, t.path), t.text, { mustNotExist: t.isNew, shown: t.path });
    written.push(t.path);
  }
  return written;
}

/** The unified diff of every plan, new files as diffs from /dev/null. */
export function planDiff(plans: FilePlan[]): string {
  const out: string[] = [];
  for (const p of plans) {
    if (p.text !== p.original) out.push(createTwoFilesPatch(`a/${p.path}`, `b/${p.path}`, p.original, p.text, undefined, undefined, { context: 3 }));
    for (const nf of p.newFiles) {
      out.push(createTwoFilesPatch('/dev/null', `b/${nf.path}`, '', nf.text, undefined, undefined, { context: 3 }));
      if (nf.conf !== undefined) out.push(createTwoFilesPatch('/dev/null', `b/${nf.path}.conf`, '', nf.conf, undefined, undefined, { context: 3 }));
    }
  }
  const newFiles = plans.flatMap((p) => p.newFiles.flatMap((nf) => (nf.conf !== undefined ? [nf.path, `${nf.path}.conf`] : [nf.path])));
  if (newFiles.length > 0) out.push(`New files:\n${newFiles.map((f) => `  ${f}`).join('\n')}\n`);
  return out.join('');
}

/** The run's inputs with the plans applied and new files placed right after their original. */
export function fixedInputs(inputs: InputFile[], plans: FilePlan[]): InputFile[] {
  const byPath = new Map(plans.map((p) => [p.path, p]));
  const out: InputFile[] = [];
  for (const input of inputs) {
    const plan = byPath.get(input.path);
    out.push(plan ? { ...input, text: plan.text } : input);
    for (const nf of plan?.newFiles ?? []) {
      out.push({ path: nf.path, rel: nf.path, text: nf.text, conf: nf.conf, report: input.report });
    }
  }
  return out;
}

/**
 * Plans the fixes of a run until nothing changes (at most `maxPasses` passes): a statement with two
 * findings gets one rewrite per pass, and what one rewrite writes may be fixed by another rule in
 * the next pass. Returns one plan per original file (its final text, and the new files placed
 * after it) and the lint result of the fixed run.
 */
export function planAllFixes(inputs: InputFile[], opts: LintOptions, first?: LintResult, maxPasses = 5): { plans: FilePlan[]; after: LintResult } {
  let current = inputs;
  let result = first ?? lint(inputs, opts);
  const fixed = new Map<string, string[]>();
  let last: FilePlan[] = [];
  for (let pass = 0; pass < maxPasses; pass++) {
    last = planFixes(result, opts, current.map((i) => i.path));
    const changes = last.some((p) => p.text !== p.original || p.newFiles.length > 0);
    if (!changes) break;
    for (const p of last) fixed.set(p.path, [...(fixed.get(p.path) ?? []), ...p.fixed]);
    current = fixedInputs(current, last);
    result = lint(current, opts);
  }
  // One plan per original file: its final text, and the new files that follow it.
  const originals = new Map(inputs.map((i) => [i.path, i]));
  const plans: FilePlan[] = [];
  let owner: FilePlan | undefined;
  for (const input of current) {
    const orig = originals.get(input.path);
    if (orig) {
      owner = {
        path: orig.path,
        original: orig.text,
        text: input.text,
        newFiles: [],
        fixed: fixed.get(orig.path) ?? [],
        skipped: last.find((p) => p.path === orig.path)?.skipped ?? [],
      };
      plans.push(owner);
      continue;
    }
    if (!owner) continue;
    owner.newFiles.push({ path: input.path, text: input.text, conf: input.conf });
    owner.fixed.push(...(fixed.get(input.path) ?? []));
    owner.skipped.push(...(last.find((p) => p.path === input.path)?.skipped ?? []));
  }
  return { plans: plans.filter((p) => p.text !== p.original || p.newFiles.length > 0 || p.skipped.length > 0), after: result };
}
