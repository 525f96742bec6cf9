import type { Reporter } from './types';

/**
 * `--format compact`: `path:line:col: severity: message [rule-id]`, one line per finding: the shape
 * editors and gcc-style problem matchers read. Nothing else: editor integrations (docs/editors.md)
 * read every line as a finding.
 */
export const compact: Reporter = (input) => {
  const out: string[] = [];
  for (const file of input.files) {
    for (const f of file.findings) {
      if (f.suppressed) continue;
      const message = f.message.split(/\r?\n/).join(' ');
      out.push(`${file.path}:${f.line}:${f.column}: ${f.severity}: ${message} [${f.ruleId}]`);
    }
  }
  return out.length > 0 ? out.join('\n') + '\n' : '';
};
