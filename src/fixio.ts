/**
 * Writing fixes: atomic writes (temporary file in the same folder, then rename, mode kept), the
 * unified diff of --fix-dry-run, and the inputs of the fixed run for --verify.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { createTwoFilesPatch } from 'diff';
import { FilePlan, planFixes } from './fix';
import { UsageError } from './input';
import { LintOptions, LintResult, lint } from './lint';
import type { InputFile } from './model';

/** Writes a file so that it is either untouched or completely rewritten, never half-written. */
export function writeAtomic(file: string, text: string, opts: { mustNotExist?: boolean } = {}): void {
  let mode = 0o644;
  try {
    const st = fs.statSync(file);
    if (opts.mustNotExist) throw new UsageError(`${file}: already exists; not overwritten`);
    mode = st.mode & 0o7777;
  } catch (e) {
    if (e instanceof UsageError) throw e;
  }
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.pgd-lint-${process.pid}-${crypto.randomBytes(4).toString('hex')}.tmp`);
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const fd = fs.openSync(tmp, 'wx', mode);
    try {
      fs.writeFileSync(fd, text);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.chmodSync(tmp, mode);
    fs.renameSync(tmp, file);
  } catch (e) {
    try {
      fs.unlinkSync(tmp);
    } catch {
      /* nothing to clean */
    }
    if (e instanceof UsageError) throw e;
    throw new UsageError(`${file}: cannot write: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** Applies plans: rewritten files and new files. Returns the paths written. */
export function writePlans(plans: FilePlan[], cwd: string): string[] {
  const written: string[] = [];
  for (const p of plans) {
    for (const nf of p.newFiles) {
      const abs = path.resolve(cwd, nf.path);
      if (fs.existsSync(abs)) throw new UsageError(`${nf.path}: already exists; not overwritten (nothing was written)`);
    }
  }
  for (const p of plans) {
    if (p.text !== p.original) {
      writeAtomic(path.resolve(cwd, p.path), p.text);
      written.push(p.path);
    }
    for (const nf of p.newFiles) {
      writeAtomic(path.resolve(cwd, nf.path), nf.text, { mustNotExist: true });
      written.push(nf.path);
      if (nf.conf !== undefined) {
        writeAtomic(path.resolve(cwd, `${nf.path}.conf`), nf.conf, { mustNotExist: true });
        written.push(`${nf.path}.conf`);
      }
    }
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
