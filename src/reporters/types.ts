/** What reporters see: findings and counts, never SQL or the model. */
import type { Severity } from '../rule';

export interface ReportedFinding {
  ruleId: string;
  severity: Severity;
  message: string;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  suggestion?: string;
  fixable: boolean;
  /** Why the finding is suppressed (only SARIF shows suppressed findings). */
  suppressed?: string;
  /** A fingerprint that survives line shifts (src/baseline.ts), when computed. */
  fingerprint?: string;
}

export interface ReportedFile {
  path: string;
  findings: ReportedFinding[];
}

export interface Summary {
  files: number;
  errors: number;
  warnings: number;
  fixable: number;
}

export interface ReportedRule {
  id: string;
  description: string;
  /** The docs page, relative to the package (`docs/rules/<id>.md`). */
  docs: string;
  /** Absolute URL of the docs page. */
  helpUri?: string;
  /** The docs page's text (Markdown). */
  help?: string;
  /** Severity on the target after the configuration. */
  severity?: Severity | 'off';
  fixable?: boolean;
}

export interface ReportInput {
  target: string;
  files: ReportedFile[];
  summary: Summary;
  /** Rule metadata for formats that carry it (SARIF). */
  rules: ReportedRule[];
  /** The tool, for formats that name it (SARIF). */
  tool?: { name: string; version: string; informationUri?: string };
  /** The folder paths are relative to (SARIF's %SRCROOT%), absolute. */
  cwd?: string;
  /** Whether colour is wanted (stylish). */
  color: boolean;
}

export type Reporter = (input: ReportInput) => string;
