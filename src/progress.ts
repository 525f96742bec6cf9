/**
 * A progress line on standard error while many files are linted: only on a terminal (or when
 * PGD_LINT_PROGRESS=1 forces it; PGD_LINT_PROGRESS=0 turns it off), only past 200 files, rewritten
 * in place with a carriage return and erased at the end, so it never mixes into the report.
 */
export const PROGRESS_MIN_FILES = 200;

export interface Progress {
  /** Before the files are read and parsed. */
  start(): void;
  /** After `done` of the files have been checked. */
  update(done: number): void;
  /** Erases the line. */
  end(): void;
}

export function progress(total: number, stderr: (s: string) => void, isTTY: boolean, env: NodeJS.ProcessEnv = process.env): Progress | undefined {
  const forced = env.PGD_LINT_PROGRESS;
  const on = forced === '1' || (forced !== '0' && isTTY);
  if (!on || total <= PROGRESS_MIN_FILES) return undefined;
  let width = 0;
  let shown = -1;
  const show = (text: string): void => {
    const pad = width > text.length ? ' '.repeat(width - text.length) : '';
    stderr(`\r${text}${pad}`);
    width = text.length;
  };
  return {
    start: () => show(`pgd-lint: parsing ${total} files...`),
    update: (done) => {
      const pct = Math.floor((done * 100) / total);
      if (pct === shown) return;
      shown = pct;
      show(`pgd-lint: checking ${done}/${total} files (${pct}%)`);
    },
    end: () => {
      if (width > 0) stderr(`\r${' '.repeat(width)}\r`);
      width = 0;
    },
  };
}
