import type { ReportInput } from './types';

const plural = (n: number, w: string): string => `${n} ${w}${n === 1 ? '' : 's'}`;

/** One plain line: the counts and the target checked against (every report states its target). */
export function summaryLine(input: ReportInput): string {
  const { errors, warnings, files } = input.summary;
  return `${plural(errors + warnings, 'problem')} (${plural(errors, 'error')}, ${plural(warnings, 'warning')}) in ${plural(files, 'file')} checked against ${input.target}`;
}
