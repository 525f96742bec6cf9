/**
 * What reporters are told about pgd-lint itself: its version, where its docs live (help links in
 * SARIF) and the rules' docs pages. Read from the installed package, never from the linted SQL.
 */
import * as fs from 'fs';
import * as path from 'path';
import { pathToFileURL } from 'url';

const PKG_ROOT = path.join(__dirname, '..', '..');

interface PackageInfo {
  version: string;
  /** Web address of the repository (https), when package.json names one. */
  repository?: string;
  homepage?: string;
}

let cached: PackageInfo | undefined;

/** https address of a package.json "repository" ("github:o/r", "git+https://…/r.git", { url }). */
export function repositoryUrl(repo: unknown): string | undefined {
  const raw = typeof repo === 'string' ? repo : repo && typeof repo === 'object' ? (repo as { url?: unknown }).url : undefined;
  if (typeof raw !== 'string' || raw === '') return undefined;
  let url = raw.trim();
  const short = /^(github|gitlab|bitbucket):([\w.-]+\/[\w.-]+)$/.exec(url);
  if (short) return `https://${short[1]}.${short[1] === 'bitbucket' ? 'org' : 'com'}/${short[2]}`;
  if (/^[\w.-]+\/[\w.-]+$/.test(url)) return `https://github.com/${url}`;
  url = url.replace(/^git\+/, '').replace(/^git:\/\//, 'https://').replace(/^ssh:\/\/git@/, 'https://').replace(/\.git$/, '');
  const scp = /^git@([^:]+):(.+)$/.exec(url);
  if (scp) url = `https://${scp[1]}/${scp[2]}`;
  return /^https?:\/\//.test(url) ? url.replace(/\/+$/, '') : undefined;
}

export function packageInfo(): PackageInfo {
  if (cached) return cached;
  try {
    const pkg = JSON.parse(fs.readFileSync(path.join(PKG_ROOT, 'package.json'), 'utf8'));
    cached = { version: String(pkg.version ?? '0.0.0'), repository: repositoryUrl(pkg.repository), homepage: typeof pkg.homepage === 'string' ? pkg.homepage : undefined };
  } catch {
    cached = { version: '0.0.0' };
  }
  return cached;
}

/**
 * Absolute address of a rule's docs page: on the repository's web site when package.json names
 * one, else the page shipped in the installed package (a file: URL).
 */
export function ruleDocsUrl(id: string): string {
  const repo = packageInfo().repository;
  if (repo) return `${repo}${/gitlab\./.test(repo) ? '/-' : ''}/blob/HEAD/docs/rules/${encodeURIComponent(id)}.md`;
  return pathToFileURL(path.join(PKG_ROOT, 'docs', 'rules', `${id}.md`)).href;
}

/** The rule's docs page (Markdown), or undefined when it is missing. */
export function ruleDocs(id: string): string | undefined {
  try {
    return fs.readFileSync(path.join(PKG_ROOT, 'docs', 'rules', `${id}.md`), 'utf8');
  } catch {
    return undefined;
  }
}
