/**
 * Baselines: `--write-baseline FILE` records today's findings, `--baseline FILE` leaves the recorded
 * ones out of the report and the exit code, so a team adopting pgd-lint on an old history fails only
 * on new findings.
 *
 * A finding is recorded as its rule id, its file (relative to the current folder, `/` separators)
 * and a fingerprint that survives edits elsewhere in the file (lines added above it, reformatting):
 * a hash of the rule id, the statement's syntax tree without positions (so whitespace and comments
 * do not count), and the finding's occurrence among the file's findings of that rule on identical
 * statements. The format is described in docs/ci.md.
 */
import * as fs from 'fs';
import * as path from 'path';
import { UsageError } from './input';
import type { Finding, LintResult } from './lint';
import { writeFileAtomic } from './output';

export interface BaselineEntry {
  ruleId: string;
  /** Relative to the folder pgd-lint ran in, `/` separators. */
  path: string;
  fingerprint: string;
  /** Where the finding was when recorded (for people; not used to match). */
  line?: number;
  message?: string;
}

export interface Baseline {
  version: 1;
  findings: BaselineEntry[];
}

/** Keys of the syntax tree that are positions, left out of the fingerprint. */
const POSITION_KEYS = new Set(['location', 'stmt_location', 'stmt_len']);

/** Whitespace runs as one space, without the ends (for text that did not parse). */
function squeeze(text: string): string {
  let out = '';
  let space = false;
  for (const ch of text) {
    if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r' || ch === '\f' || ch === '\v') {
      space = out.length > 0;
    } else {
      if (space) out += ' ';
      out += ch;
      space = false;
    }
  }
  return out;
}

/** What a finding is about, independent of where in the file it is. */
function subject(f: Finding, text: string): string {
  if (f.stmt?.node) return JSON.stringify(f.stmt.node, (k, v) => (POSITION_KEYS.has(k) ? undefined : v));
  if (f.stmt) return squeeze(text.slice(f.stmt.start, f.stmt.end));
  return squeeze(text.slice(f.start, f.end));
}

function sha(s: string): string {
  // Loaded here, not at start-up: most runs make no fingerprint.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { createHash } = require('crypto') as typeof import('crypto');
  return createHash('sha256').update(s).digest('hex');
}

/** The path as a baseline records it. */
export function baselinePath(file: string, cwd: string): string {
  return path.relative(cwd, path.resolve(cwd, file)).split(path.sep).join('/');
}

/** Fingerprints of every finding of the reported files. */
export function fingerprints(result: LintResult): Map<Finding, string> {
  const out = new Map<Finding, string>();
  for (const file of result.files) {
    const text = file.file.source.text;
    const seen = new Map<string, number>();
    for (const f of file.findings) {
      const key = `${f.ruleId}\0${sha(subject(f, text))}`;
      const n = seen.get(key) ?? 0;
      seen.set(key, n + 1);
      out.set(f, sha(`${key}\0${n}`).slice(0, 32));
    }
  }
  return out;
}

function entryKey(e: { path: string; ruleId: string; fingerprint: string }): string {
  return `${e.path}\0${e.ruleId}\0${e.fingerprint}`;
}

/** The baseline of a run: every finding that is not suppressed by a directive. */
export function makeBaseline(result: LintResult, fps: Map<Finding, string>, cwd: string): Baseline {
  const findings: BaselineEntry[] = [];
  for (const file of result.files) {
    const p = baselinePath(file.path, cwd);
    for (const f of file.findings) {
      if (f.suppressed) continue;
      findings.push({ ruleId: f.ruleId, path: p, fingerprint: fps.get(f)!, line: f.line, message: f.message });
    }
  }
  return { version: 1, findings };
}

export function writeBaseline(file: string, baseline: Baseline): void {
  writeFileAtomic(file, JSON.stringify(baseline, null, 2) + '\n', '--write-baseline');
}

export function readBaseline(file: string): Baseline {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(`--baseline ${file}: cannot read: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (e as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`--baseline ${file}: invalid JSON: ${(e as Error).message}`);
  }
  const b = json as Partial<Baseline> | null;
  if (!b || typeof b !== 'object' || b.version !== 1 || !Array.isArray(b.findings)) {
    throw new UsageError(`--baseline ${file}: not a pgd-lint baseline (expected { "version": 1, "findings": [...] }; write one with --write-baseline)`);
  }
  b.findings.forEach((e, i) => {
    if (!e || typeof e !== 'object' || typeof e.ruleId !== 'string' || typeof e.path !== 'string' || typeof e.fingerprint !== 'string') {
      throw new UsageError(`--baseline ${file}: findings[${i}] needs string "ruleId", "path" and "fingerprint"`);
    }
  });
  return b as Baseline;
}

/**
 * The run without the findings the baseline records (each entry matches one finding). Suppressed
 * findings stay (they count for nothing anyway).
 */
export function applyBaseline(result: LintResult, fps: Map<Finding, string>, baseline: Baseline, cwd: string): { result: LintResult; matched: number } {
  const left = new Map<string, number>();
  for (const e of baseline.findings) left.set(entryKey(e), (left.get(entryKey(e)) ?? 0) + 1);
  let matched = 0;
  const files = result.files.map((file) => {
    const p = baselinePath(file.path, cwd);
    const findings = file.findings.filter((f) => {
      if (f.suppressed) return true;
      const k = entryKey({ path: p, ruleId: f.ruleId, fingerprint: fps.get(f) ?? '' });
      const n = left.get(k) ?? 0;
      if (n === 0) return true;
      left.set(k, n - 1);
      matched++;
      return false;
    });
    return { ...file, findings };
  });
  return { result: { ...result, files }, matched };
}
