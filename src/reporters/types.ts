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

export interface ReportInput {
  target: string;
  files: ReportedFile[];
  summary: Summary;
  /** Rule metadata for formats that carry it (SARIF). */
  rules: Array<{ id: string; description: string; docs: string }>;
  /** Whether colour is wanted (stylish). */
  color: boolean;
}

export type Reporter = (input: ReportInput) => string;
