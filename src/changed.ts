/**
 * `--changed-since <git-ref>`: the migration files added or modified since a git ref, whether the
 * change is committed, staged, only in the working tree, or a file git does not track yet.
 * Asks git (execFileSync, no shell).
 */
import * as fs from 'fs';
import * as path from 'path';
import { UsageError } from './input';

function git(args: string[], cwd: string): string {
  // Loaded here, not at start-up: only --changed-since asks git.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { execFileSync } = require('child_process') as typeof import('child_process');
  return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 256 * 1024 * 1024 });
}

function real(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    return path.resolve(p);
  }
}

/**
 * The files (absolute, symbolic links resolved) added or modified since `ref`: the changes between
 * the ref's merge base with HEAD and the working tree, plus untracked files that are not ignored.
 * Measuring from the merge base means `--changed-since origin/main` on a branch reports the
 * branch's own changes, not what landed on main meanwhile.
 */
export function changedFiles(ref: string, cwd: string): Set<string> {
  if (ref === '' || ref.startsWith('-')) throw new UsageError(`--changed-since: "${ref}" is not a git ref`);
  let top: string;
  try {
    top = git(['rev-parse', '--show-toplevel'], cwd).trim();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new UsageError('--changed-since: git is not installed (it is needed to find changed files)');
    throw new UsageError(`--changed-since: ${cwd} is not in a git repository`);
  }
  let commit: string;
  try {
    commit = git(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`], top).trim();
  } catch {
    commit = '';
  }
  if (!commit) throw new UsageError(`--changed-since: unknown git ref "${ref}" (no such branch, tag or commit in ${top})`);
  let base = commit;
  try {
    base = git(['merge-base', commit, 'HEAD'], top).trim() || commit;
  } catch {
    // No common history with HEAD (or no HEAD yet): compare with the ref itself.
  }
  const out = new Set<string>();
  const add = (list: string): void => {
    for (const rel of list.split('\0')) if (rel) out.add(real(path.join(top, rel)));
  };
  add(git(['-c', 'core.quotepath=off', 'diff', '--name-only', '-z', '--no-renames', '--diff-filter=ACMRT', base, '--'], top));
  add(git(['ls-files', '--others', '--exclude-standard', '-z', '--full-name'], top));
  return out;
}

/** Whether an input path (as given, relative to cwd) is one of the changed files. */
export function isChanged(changed: Set<string>, file: string, cwd: string): boolean {
  return changed.has(real(path.resolve(cwd, file)));
}
