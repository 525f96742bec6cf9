/**
 * The neighbours of one migration: the other migrations of its folder, in the runner's order.
 *
 * An editor lints one file (`--stdin --stdin-filename PATH`, the language server), CI lints the
 * whole folder. For a finding in the editor to equal the finding in CI, the migrations the runner
 * applies before the file are replayed into the catalog first (with `report: false`), exactly as
 * `pgd-lint <folder>` does: a table created two files earlier is an existing table. The ones it
 * applies after the file are replayed too (also unreported), for the rules that judge the whole run.
 *
 * Where a migration sits in a sub-folder of the migrations folder (prisma's
 * `<version>_<name>/migration.sql`, sqitch's `deploy/<change>.sql`), the migrations folder is
 * the parent and the neighbours are found one level down, as a run over that parent finds them.
 */
import * as fs from 'fs';
import * as path from 'path';
import fg from 'fast-glob';
import { decodeText } from './input';
import type { InputFile } from './model';
import type { RunnerPreset } from './runners';

export interface NeighbourOptions {
  runner: RunnerPreset;
  /** Keep down migrations (--include-down), as the folder walk does. */
  includeDown: boolean;
  /** Globs to leave out (config `exclude`), relative to the migrations folder. */
  exclude?: string[];
  /** Reads a neighbour's text (default: the file, decoded as UTF-8; throws UsageError). */
  read?: (abs: string, shown: string) => string;
  /** Reads a flyway `<file>.sql.conf` (default: the file, or undefined when there is none). */
  readConf?: (abs: string) => string | undefined;
}

export interface Neighbours {
  /** The file's path relative to its migrations folder (what the runner's patterns match). */
  rel: string;
  /** Migrations the runner applies before the file, in order, to replay with `report: false`. */
  before: InputFile[];
  /**
   * Migrations the runner applies after the file, in order, also replayed with `report: false`:
   * rules that look at the whole run (a primary key added in a later file, an enum value used
   * later) see the same run as in CI.
   */
  after: InputFile[];
  /** Paths of every other migration of the folder, before and after the file (names taken by --fix). */
  all: string[];
}

const IGNORE = ['**/node_modules/**', '**/.git/**'];

/** The file's place among its folder's migrations: which folder, and its path relative to it. */
function placeOf(abs: string, runner: RunnerPreset): { root: string; rel: string; depth: number } | undefined {
  const dir = path.dirname(abs);
  const name = path.basename(abs);
  if (runner.isMigration(name)) {
    // A runner that only recognises files in a sub-folder may still accept the bare name (prisma);
    // prefer the parent when the parent's layout is the runner's.
    const parentRel = `${path.basename(dir)}/${name}`;
    if (name === 'migration.sql' && runner.name === 'prisma') return { root: path.dirname(dir), rel: parentRel, depth: 1 };
    return { root: dir, rel: name, depth: 0 };
  }
  const parentRel = `${path.basename(dir)}/${name}`;
  if (runner.isMigration(parentRel)) return { root: path.dirname(dir), rel: parentRel, depth: 1 };
  return undefined;
}

function defaultRead(abs: string, shown: string): string {
  return decodeText(fs.readFileSync(abs), shown);
}

function defaultReadConf(abs: string): string | undefined {
  try {
    return fs.readFileSync(`${abs}.conf`, 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * The migrations of `file`'s folder that the runner applies before and after it (the file itself
 * excluded), read for replay. `file` is the path as given (relative to `cwd` or absolute); neighbour paths are
 * built from it, so they share its form. Returns undefined when the file is not a migration by the
 * runner's patterns or its folder cannot be listed.
 */
export function neighboursOf(file: string, cwd: string, opts: NeighbourOptions): Neighbours | undefined {
  const abs = path.resolve(cwd, file);
  const place = placeOf(abs, opts.runner);
  if (!place) return undefined;
  const runner = opts.runner;
  let entries: string[];
  try {
    entries = fg.sync(place.depth === 0 ? '*' : '*/*', {
      cwd: place.root,
      onlyFiles: true,
      ignore: [...IGNORE, ...(opts.exclude ?? [])],
      followSymbolicLinks: false,
      suppressErrors: true,
      dot: false,
    });
  } catch {
    return undefined;
  }
  const order = (a: string, b: string): number => runner.compare(path.posix.basename(a), path.posix.basename(b)) || runner.compare(a, b);
  const own = place.rel;
  const migrations = entries
    .filter((rel) => rel !== own && runner.isMigration(rel) && (opts.includeDown || !runner.isDownFile(rel)))
    .sort(order);
  // Shown paths are built from the path as given: `db/0002_x.sql` next to `db/0003_y.sql`.
  const shownRoot = place.depth === 0 ? path.dirname(file) : path.dirname(path.dirname(file));
  const shown = (rel: string): string => (shownRoot === '.' ? rel : path.join(shownRoot, rel));
  const read = opts.read ?? defaultRead;
  const readConf = opts.readConf ?? defaultReadConf;
  const before: InputFile[] = [];
  const after: InputFile[] = [];
  for (const rel of migrations) {
    const nAbs = path.join(place.root, rel);
    (order(rel, own) < 0 ? before : after).push({
      path: shown(rel),
      rel,
      text: read(nAbs, shown(rel)),
      conf: runner.name === 'flyway' ? readConf(nAbs) : undefined,
      report: false,
    });
  }
  return { rel: own, before, after, all: migrations.map(shown) };
}
