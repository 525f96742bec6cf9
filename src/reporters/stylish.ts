import chalk from 'chalk';
import type { Reporter } from './types';

/**
 * `--format stylish`: a header per file, then `line:col  severity  message  rule-id` with the
 * suggestion indented under it, and a summary line. Colour only when asked for.
 */
export const stylish: Reporter = (input) => {
  const c = new chalk.Instance({ level: input.color ? 1 : 0 });
  const out: string[] = [];
  for (const file of input.files) {
    const findings = file.findings.filter((f) => !f.suppressed);
    if (findings.length === 0) continue;
    out.push(c.underline(file.path));
    const posWidth = Math.max(...findings.map((f) => `${f.line}:${f.column}`.length));
    for (const f of findings) {
      const pos = `${f.line}:${f.column}`.padEnd(posWidth);
      const sev = f.severity === 'error' ? c.red('error  ') : c.yellow('warning');
      out.push(`  ${c.dim(pos)}  ${sev}  ${f.message}  ${c.dim(f.ruleId)}`);
      if (f.suggestion) {
        const pad = ' '.repeat(posWidth + 4);
        out.push(`${pad}${c.cyan('suggestion:')}`);
        for (const line of f.suggestion.split('\n')) out.push(`${pad}  ${line}`);
      }
    }
    out.push('');
  }
  const { errors, warnings, fixable, files } = input.summary;
  const total = errors + warnings;
  const plural = (n: number, w: string): string => `${n} ${w}${n === 1 ? '' : 's'}`;
  if (total === 0) {
    out.push(c.green(`✔ ${plural(files, 'file')} checked against ${input.target}: no problems`));
  } else {
    const line = `✖ ${plural(total, 'problem')} (${plural(errors, 'error')}, ${plural(warnings, 'warning')}) in ${plural(files, 'file')} checked against ${input.target}`;
    out.push(errors > 0 ? c.red.bold(line) : c.yellow.bold(line));
    if (fixable > 0) out.push(c.dim(`  ${fixable} of them can be rewritten with --fix`));
  }
  return out.join('\n') + '\n';
};
