import { summaryLine } from './summary';
import type { Reporter } from './types';

/** A workflow command's message: `%`, CR and LF are escaped. */
export function escapeData(s: string): string {
  return s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

/** A workflow command's property value: also `:` and `,`, which separate properties. */
export function escapeProperty(s: string): string {
  return escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

/**
 * `--format github`: one GitHub Actions workflow command per finding, which the runner turns into an
 * annotation on the file and line: `::error file=...,line=...,col=...,endLine=...,endColumn=...,title=<rule id>::message`;
 * then a plain summary line for the log.
 */
export const github: Reporter = (input) => {
  const out: string[] = [];
  for (const file of input.files) {
    for (const f of file.findings) {
      if (f.suppressed) continue;
      const props = [
        `file=${escapeProperty(file.path.replace(/\\/g, '/'))}`,
        `line=${f.line}`,
        `col=${f.column}`,
        `endLine=${f.endLine}`,
        `endColumn=${f.endColumn}`,
        `title=${escapeProperty(f.ruleId)}`,
      ].join(',');
      const message = f.suggestion ? `${f.message}\n\nSuggestion:\n${f.suggestion}` : f.message;
      out.push(`::${f.severity === 'error' ? 'error' : 'warning'} ${props}::${escapeData(message)}`);
    }
  }
  out.push(`pgd-lint: ${summaryLine(input)}`);
  return out.join('\n') + '\n';
};
