/**
 * Runner presets (`--runner`): how each migration tool picks, orders and executes files.
 * docs/runners.md says what each preset assumes and where that was read.
 */
import * as path from 'path';
import { naturalCompare } from './natural';

/**
 * How the statements of a section reach PostgreSQL:
 * - `autocommit`: one by one; each is its own transaction unless the text has BEGIN ... COMMIT.
 * - `transaction`: the tool opens a transaction around the section and commits it at the end.
 * - `single-query`: the whole section is one simple-protocol query: with more than one statement,
 *   PostgreSQL runs them in one implicit transaction block.
 */
export type Execution = 'autocommit' | 'transaction' | 'single-query';

export interface Section {
  /** String indices into the file text. */
  start: number;
  end: number;
  down: boolean;
  execution: Execution;
}

export interface FileFacts {
  text: string;
  /** Comments of the file as (start, text), for annotation markers. */
  comments: Array<{ start: number; text: string }>;
  /** `<file>.sql.conf` next to the file (flyway), if any. */
  conf?: string;
  /** True when the file contains a statement PostgreSQL refuses in a transaction block. */
  hasNonTransactional: boolean;
  /** True when every statement of the file is such a statement. */
  allNonTransactional: boolean;
  /** True when the file has a statement Flyway's own parser marks non-transactional (a narrower list). */
  flywayNonTransactional?: boolean;
}

export interface RunnerPreset {
  name: string;
  /** Whether a file found while walking a folder is a migration (relative posix path). */
  isMigration(rel: string): boolean;
  /** Whether a whole file is a down migration (U files, .down.sql, revert/). */
  isDownFile(rel: string): boolean;
  /** Order in which the tool applies files. */
  compare(a: string, b: string): number;
  /** The file's sections and how each runs. */
  sections(file: FileFacts, rel: string): Section[];
  /** Whether the file's transaction restarts after an explicit COMMIT inside it (JDBC autocommit=false). */
  reopensAfterCommit: boolean;
}

const base = (p: string): string => path.posix.basename(p);
const sql = (rel: string): boolean => rel.toLowerCase().endsWith('.sql');
const whole = (file: FileFacts, execution: Execution, down = false): Section[] => [{ start: 0, end: file.text.length, down, execution }];

const plain: RunnerPreset = {
  name: 'plain',
  isMigration: sql,
  isDownFile: () => false,
  compare: naturalCompare,
  sections: (file) => whole(file, 'autocommit'),
  reopensAfterCommit: false,
};

/** Flyway version of a file name: numeric parts of V1_2__x (underscores read as dots). */
function flywayKey(rel: string): { group: number; version: number[]; desc: string } {
  const name = base(rel);
  const m = /^([VUR])([^_]*(?:_[^_]+)*?)__(.*)\.sql$/i.exec(name);
  if (!m) return { group: 3, version: [], desc: name };
  const prefix = m[1].toUpperCase();
  const version = m[2]
    .replace(/_/g, '.')
    .split('.')
    .filter((p) => p !== '')
    .map((p) => Number(p));
  while (version.length > 1 && version[version.length - 1] === 0) version.pop();
  return { group: prefix === 'R' ? 2 : prefix === 'U' ? 1 : 0, version, desc: m[3] };
}

function compareVersions(a: number[], b: number[]): number {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

const flyway: RunnerPreset = {
  name: 'flyway',
  isMigration: (rel) => /^[VUR][^/]*__.*\.sql$/i.test(base(rel)),
  isDownFile: (rel) => /^U/i.test(base(rel)),
  compare: (a, b) => {
    const ka = flywayKey(a);
    const kb = flywayKey(b);
    if (ka.group !== kb.group) return ka.group - kb.group;
    if (ka.group === 2) return naturalCompare(ka.desc, kb.desc);
    return compareVersions(ka.version, kb.version) || naturalCompare(a, b);
  },
  sections: (file) => {
    const conf = file.conf ? /^\s*executeInTransaction\s*=\s*(\w+)/im.exec(file.conf) : null;
    if (conf) return whole(file, conf[1].toLowerCase() === 'false' ? 'autocommit' : 'transaction');
    // Flyway runs a file of statements PostgreSQL refuses in a transaction outside one; the
    // contract models its mixed mode the same way for a file that mixes them with others.
    // Flyway decides with its own list (REINDEX TABLE ... CONCURRENTLY is not on it: docs/runners.md).
    return whole(file, (file.flywayNonTransactional ?? file.hasNonTransactional) ? 'autocommit' : 'transaction');
  },
  reopensAfterCommit: true,
};

const golangMigrate: RunnerPreset = {
  name: 'golang-migrate',
  isMigration: (rel) => /^\d+_.*\.(up|down)\.sql$/i.test(base(rel)),
  isDownFile: (rel) => /\.down\.sql$/i.test(base(rel)),
  compare: naturalCompare,
  sections: (file) => whole(file, 'single-query'),
  reopensAfterCommit: false,
};

/** Sections from annotation comments: `marker(line)` says up / down / not a marker. */
function annotated(
  file: FileFacts,
  classify: (text: string) => { down: boolean; noTx: boolean } | undefined,
  defaults: { tx: Execution; noTx: Execution; fileNoTx: boolean },
): Section[] {
  const marks: Array<{ start: number; down: boolean; noTx: boolean }> = [];
  for (const c of file.comments) {
    const m = classify(c.text);
    if (m) marks.push({ start: c.start, ...m });
  }
  if (marks.length === 0) return whole(file, defaults.fileNoTx ? defaults.noTx : defaults.tx);
  const out: Section[] = [];
  // Text before the first marker is not part of any migration.
  for (let i = 0; i < marks.length; i++) {
    const end = i + 1 < marks.length ? marks[i + 1].start : file.text.length;
    out.push({ start: marks[i].start, end, down: marks[i].down, execution: marks[i].noTx || defaults.fileNoTx ? defaults.noTx : defaults.tx });
  }
  if (marks[0].start > 0) out.unshift({ start: 0, end: marks[0].start, down: true, execution: 'autocommit' });
  return out;
}

const goose: RunnerPreset = {
  name: 'goose',
  isMigration: (rel) => /^\d+_.*\.sql$/i.test(base(rel)),
  isDownFile: () => false,
  compare: naturalCompare,
  sections: (file) => {
    const noTx = file.comments.some((c) => /^--\s*\+goose\s+no\s+transaction\b/i.test(c.text));
    return annotated(
      file,
      (t) => {
        const m = /^--\s*\+goose\s+(up|down)\b/i.exec(t);
        return m ? { down: m[1].toLowerCase() === 'down', noTx: false } : undefined;
      },
      { tx: 'transaction', noTx: 'autocommit', fileNoTx: noTx },
    );
  },
  reopensAfterCommit: false,
};

const dbmate: RunnerPreset = {
  name: 'dbmate',
  isMigration: (rel) => /^\d+.*\.sql$/i.test(base(rel)) && base(rel) !== 'schema.sql',
  isDownFile: () => false,
  compare: (a, b) => (base(a) < base(b) ? -1 : base(a) > base(b) ? 1 : 0),
  sections: (file) =>
    annotated(
      file,
      (t) => {
        const m = /^--\s*migrate:(up|down)\b(.*)$/i.exec(t);
        return m ? { down: m[1].toLowerCase() === 'down', noTx: /transaction\s*:\s*false/i.test(m[2]) } : undefined;
      },
      { tx: 'transaction', noTx: 'single-query', fileNoTx: false },
    ),
  reopensAfterCommit: false,
};

const sqitch: RunnerPreset = {
  name: 'sqitch',
  isMigration: (rel) => sql(rel) && /(^|\/)(deploy|revert)\//.test(rel),
  isDownFile: (rel) => /(^|\/)revert\//.test(rel),
  compare: naturalCompare,
  sections: (file) => whole(file, 'autocommit'),
  reopensAfterCommit: false,
};

const alembic: RunnerPreset = {
  name: 'alembic',
  isMigration: sql,
  isDownFile: () => false,
  compare: naturalCompare,
  sections: (file) => {
    const marks: Array<{ start: number; down: boolean }> = [];
    for (const c of file.comments) {
      const m = /^--\s*Running (upgrade|downgrade)\b/.exec(c.text);
      if (m) marks.push({ start: c.start, down: m[1] === 'downgrade' });
    }
    if (marks.length === 0 || !marks.some((m) => m.down)) return whole(file, 'autocommit');
    return marks.map((m, i) => ({ start: i === 0 ? 0 : m.start, end: i + 1 < marks.length ? marks[i + 1].start : file.text.length, down: m.down, execution: 'autocommit' as Execution }));
  },
  reopensAfterCommit: false,
};

const prisma: RunnerPreset = {
  name: 'prisma',
  isMigration: (rel) => base(rel) === 'migration.sql',
  isDownFile: () => false,
  compare: naturalCompare,
  sections: (file) => whole(file, 'single-query'),
  reopensAfterCommit: false,
};

const django: RunnerPreset = {
  name: 'django',
  isMigration: sql,
  isDownFile: (rel) => /\.backwards\.sql$/i.test(rel),
  compare: naturalCompare,
  sections: (file) => whole(file, 'autocommit'),
  reopensAfterCommit: false,
};

export const RUNNERS: Record<string, RunnerPreset> = {
  plain,
  flyway,
  'golang-migrate': golangMigrate,
  goose,
  dbmate,
  sqitch,
  alembic,
  prisma,
  django,
};

export const RUNNER_NAMES = Object.keys(RUNNERS);
