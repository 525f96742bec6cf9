import type { Reporter } from './types';

/** `--format json`: the contract's shape, suppressed findings left out. */
export const json: Reporter = (input) =>
  JSON.stringify(
    {
      version: 1,
      target: input.target,
      files: input.files.map((f) => ({
        path: f.path,
        findings: f.findings
          .filter((x) => !x.suppressed)
          .map((x) => ({
            ruleId: x.ruleId,
            severity: x.severity,
            message: x.message,
            line: x.line,
            column: x.column,
            endLine: x.endLine,
            endColumn: x.endColumn,
            ...(x.suggestion !== undefined ? { suggestion: x.suggestion } : {}),
            fixable: x.fixable,
          })),
      })),
      summary: input.summary,
    },
    null,
    2,
  ) + '\n';
