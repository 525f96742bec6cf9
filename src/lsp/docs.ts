/**
 * Where a rule's documentation lives, for the link of each diagnostic: `docs/rules/<id>.md` in the
 * repository named by package.json (`repository`), or else the page installed with the package.
 */
import * as fs from 'fs';
import * as path from 'path';
import { pathToFileURL } from 'url';

/** The package root: dist/src/lsp/ (built) or src/lsp/ (ts-jest) is two or three levels down. */
function packageRoot(): string {
  for (const up of [['..', '..'], ['..', '..', '..']]) {
    const dir = path.join(__dirname, ...up);
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(dir, 'docs'))) return dir;
  }
  return path.join(__dirname, '..', '..', '..');
}

/** https://github.com/o/r from the forms package.json allows ("git+https://...git", "github:o/r", {url}). */
export function repositoryWebUrl(repository: unknown): string | undefined {
  const raw: unknown = typeof repository === 'string' ? repository : repository && typeof repository === 'object' ? (repository as { url?: unknown }).url : undefined;
  if (typeof raw !== 'string' || raw === '') return undefined;
  let url: string = raw;
  const short = /^(?:github:)?([\w.-]+)\/([\w.-]+)$/.exec(url);
  if (short) return `https://github.com/${short[1]}/${short[2].replace(/\.git$/, '')}`;
  url = url.replace(/^git\+/, '').replace(/^git:\/\//, 'https://').replace(/^ssh:\/\/git@/, 'https://').replace(/\.git$/, '');
  const scp = /^git@([^:]+):(.+)$/.exec(url);
  if (scp) url = `https://${scp[1]}/${scp[2]}`;
  return /^https?:\/\//.test(url) ? url.replace(/\/+$/, '') : undefined;
}

/** The installed package's version (serverInfo). */
export function packageVersion(root: string = packageRoot()): string {
  try {
    return String(JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).version);
  } catch {
    return '0.0.0';
  }
}

export interface DocsLocator {
  /** The link to a rule's page, or undefined when there is none to give. */
  ruleUrl(id: string): string | undefined;
}

/** Reads package.json once; repository pages win over installed files (they render as pages). */
export function docsLocator(root: string = packageRoot()): DocsLocator {
  let web: string | undefined;
  try {
    web = repositoryWebUrl(JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).repository);
  } catch {
    web = undefined;
  }
  const cache = new Map<string, string | undefined>();
  return {
    ruleUrl(id: string): string | undefined {
      if (cache.has(id)) return cache.get(id);
      let url: string | undefined;
      if (web) url = `${web}/blob/HEAD/docs/rules/${id}.md`;
      else {
        const file = path.join(root, 'docs', 'rules', `${id}.md`);
        url = fs.existsSync(file) ? pathToFileURL(file).href : undefined;
      }
      cache.set(id, url);
      return url;
    },
  };
}
