import type { ReportedFinding, Reporter } from './types';

/** Text for an XML attribute or element: the five special characters escaped, characters XML 1.0 forbids dropped. */
export function xmlEscape(s: string): string {
  return (
    s
      // eslint-disable-next-line no-control-regex
      .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '')
      .replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '')
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;')
      .replace(/'/g, '&apos;')
      .replace(/\r/g, '&#13;')
  );
}

function attrs(a: Record<string, string | number>): string {
  return Object.entries(a)
    .map(([k, v]) => ` ${k}="${xmlEscape(String(v)).replace(/\n/g, '&#10;').replace(/\t/g, '&#9;')}"`)
    .join('');
}

function body(path: string, f: ReportedFinding): string {
  const lines = [`${path}:${f.line}:${f.column}: ${f.severity}: ${f.message} [${f.ruleId}]`];
  if (f.suggestion) lines.push('', 'Suggestion:', f.suggestion);
  return xmlEscape(lines.join('\n'));
}

/**
 * `--format junit`: JUnit XML as CI servers read it (GitLab, Jenkins, Azure): a testsuite per file,
 * a failing testcase per finding, one passing testcase for a file without findings.
 */
export const junit: Reporter = (input) => {
  const suites: string[] = [];
  let tests = 0;
  let failures = 0;
  for (const file of input.files) {
    const findings = file.findings.filter((f) => !f.suppressed);
    const cases: string[] = [];
    if (findings.length === 0) {
      cases.push(`    <testcase${attrs({ classname: file.path, name: file.path, file: file.path })}/>`);
    }
    for (const f of findings) {
      cases.push(
        `    <testcase${attrs({ classname: file.path, name: `${f.ruleId} at ${file.path}:${f.line}:${f.column}`, file: file.path, line: f.line })}>\n` +
          `      <failure${attrs({ message: `${f.message} [${f.ruleId}]`, type: f.severity })}>${body(file.path, f)}</failure>\n` +
          `    </testcase>`,
      );
    }
    tests += cases.length;
    failures += findings.length;
    suites.push(
      `  <testsuite${attrs({ name: file.path, tests: cases.length, failures: findings.length, errors: 0, skipped: 0 })}>\n${cases.join('\n')}\n  </testsuite>`,
    );
  }
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<testsuites${attrs({ name: `pgd-lint (${input.target})`, tests, failures, errors: 0 })}>\n` +
    suites.map((s) => s + '\n').join('') +
    '</testsuites>\n'
  );
};
