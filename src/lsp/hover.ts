/**
 * Hover on a flagged statement: which global lock it takes on the configured target, whether it
 * is replicated, and the findings on it with what to write instead.
 */
import { Hover, MarkupKind } from 'vscode-languageserver/node';
import type { Finding } from '../lint';
import type { Stmt } from '../model';
import { describeLock } from '../pgd';
import { Analysis, shownFindings } from './analysis';

function contains(s: Stmt, offset: number): boolean {
  return s.start <= offset && offset <= s.end;
}

/** The innermost statement at `offset` that has a finding (on itself or on SQL inside it). */
function flaggedAt(findings: Finding[], offset: number): { stmt: Stmt; findings: Finding[] } | undefined {
  let best: Stmt | undefined;
  for (const f of findings) {
    for (let s = f.stmt; s; s = s.parent) {
      if (contains(s, offset) && (!best || s.end - s.start < best.end - best.start)) best = s;
    }
  }
  if (!best) return undefined;
  const inside = (s: Stmt | undefined): boolean => {
    for (let p = s; p; p = p.parent) if (p === best) return true;
    return false;
  };
  return { stmt: best, findings: findings.filter((f) => inside(f.stmt)) };
}

export function hoverAt(a: Analysis, offset: number, markdown: boolean): Hover | null {
  const hit = flaggedAt(shownFindings(a), offset);
  if (!hit) return null;
  const target = a.result.target.name;
  const facts = a.result.facts.get(hit.stmt);
  const lines: string[] = [];
  const strong = (s: string): string => (markdown ? `**${s}**` : s);
  const code = (s: string): string => (markdown ? `\`${s}\`` : s);
  if (facts) {
    lines.push(
      facts.lock === 'none'
        ? `On ${strong(target)} this statement takes no global lock.`
        : `On ${strong(target)} this statement takes ${describeLock(facts.lock, a.result.target)}.`,
    );
    if (facts.ddl && !facts.replicated) lines.push(`It is not replicated${facts.localReason ? `: ${facts.localReason}` : ''}.`);
  } else {
    lines.push(`Target: ${strong(target)}.`);
  }
  for (const f of hit.findings) {
    lines.push('');
    lines.push(`${code(f.ruleId)} (${f.severity}): ${f.message}`);
    if (f.suggestion) {
      lines.push('');
      lines.push(markdown ? `Instead:\n\n\`\`\`sql\n${f.suggestion}\n\`\`\`` : `Instead:\n${f.suggestion}`);
    }
  }
  const range = { start: a.document.positionAt(hit.stmt.start), end: a.document.positionAt(hit.stmt.end) };
  return { contents: { kind: markdown ? MarkupKind.Markdown : MarkupKind.PlainText, value: lines.join('\n') }, range };
}
