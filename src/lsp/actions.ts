/**
 * Code actions on findings: ignore the rule for the statement or for the file (the contract's
 * directives), and apply the safe rewrite wherever --fix has one (src/fix.ts plans it).
 */
import { pathToFileURL } from 'url';
import {
  CodeAction,
  CodeActionKind,
  CreateFile,
  Diagnostic,
  OptionalVersionedTextDocumentIdentifier,
  Range,
  TextDocumentEdit,
  TextEdit,
  WorkspaceEdit,
} from 'vscode-languageserver/node';
import { FilePlan, planFixes } from '../fix';
import { planAllFixes } from '../fixio';
import type { Finding } from '../lint';
import { SYNTAX_ERROR, UNUSED_IGNORE } from '../registry';
import { Analysis, findingRange, shownFindings } from './analysis';

/** The kind of the "apply every rewrite of the file" action (editors run source.fixAll on save). */
export const FIX_ALL_KIND = `${CodeActionKind.SourceFixAll}.pgd-lint`;

export interface EditCapabilities {
  /** The client applies `documentChanges` (versioned edits). */
  documentChanges: boolean;
  /** The client creates files in a WorkspaceEdit (needed by rewrites that add migrations). */
  createFiles: boolean;
}

function lineBreak(text: string): string {
  return text.includes('\r\n') ? '\r\n' : '\n';
}

/** Ranges overlap, touching ends included (a cursor at the end of a squiggle still counts). */
function overlaps(a: Range, b: Range): boolean {
  const before = (p: Range['start'], q: Range['start']): boolean => p.line < q.line || (p.line === q.line && p.character < q.character);
  return !before(a.end, b.start) && !before(b.end, a.start);
}

function wanted(only: string[] | undefined, kind: string): boolean {
  return !only || only.length === 0 || only.some((k) => kind === k || kind.startsWith(`${k}.`));
}

/**
 * The line directive above the finding's statement (the top-level one for SQL found inside another
 * statement), indented like it. When another statement ends on the same line, the statement moves
 * to a line of its own below the directive, since a directive on that line would cover the other.
 */
export function ignoreStatementEdit(a: Analysis, f: Finding): TextEdit | undefined {
  let stmt = f.stmt;
  if (!stmt) return undefined;
  while (stmt.parent) stmt = stmt.parent;
  const text = a.document.getText();
  const eol = lineBreak(text);
  const lineStart = text.lastIndexOf('\n', stmt.start - 1) + 1;
  const lead = text.slice(lineStart, stmt.start);
  const directive = `-- pgd-lint-ignore ${f.ruleId}`;
  if (/^[ \t]*$/.test(lead)) {
    const at = a.document.positionAt(lineStart);
    return TextEdit.insert(at, `${lead}${directive}${eol}`);
  }
  const indent = /^[ \t]*/.exec(lead)![0];
  let cut = stmt.start;
  while (cut > lineStart && (text[cut - 1] === ' ' || text[cut - 1] === '\t')) cut--;
  return TextEdit.replace({ start: a.document.positionAt(cut), end: a.document.positionAt(stmt.start) }, `${eol}${indent}${directive}${eol}${indent}`);
}

/** The file directive, on a line of its own at the top of the file. */
export function ignoreFileEdit(a: Analysis, f: Finding): TextEdit {
  return TextEdit.insert({ line: 0, character: 0 }, `-- pgd-lint-ignore-file ${f.ruleId}${lineBreak(a.document.getText())}`);
}

/** The smallest whole-line edit that turns `before` into `after`. */
export function replaceLines(a: Analysis, before: string, after: string): TextEdit {
  let p = 0;
  const max = Math.min(before.length, after.length);
  while (p < max && before.charCodeAt(p) === after.charCodeAt(p)) p++;
  p = before.lastIndexOf('\n', p - 1) + 1;
  let s = 0;
  while (s < max - p && before.charCodeAt(before.length - 1 - s) === after.charCodeAt(after.length - 1 - s)) s++;
  let endOld = before.length - s;
  if (endOld > p && before[endOld - 1] !== '\n') {
    const nl = before.indexOf('\n', endOld);
    const next = nl === -1 ? before.length : nl + 1;
    s = Math.max(0, s - (next - endOld));
    endOld = before.length - s;
  }
  const endNew = after.length - s;
  return TextEdit.replace({ start: a.document.positionAt(p), end: a.document.positionAt(endOld) }, after.slice(p, endNew));
}

function textEdit(a: Analysis, edits: TextEdit[], caps: EditCapabilities): WorkspaceEdit {
  if (caps.documentChanges) {
    return { documentChanges: [TextDocumentEdit.create(OptionalVersionedTextDocumentIdentifier.create(a.document.uri, a.document.version), edits)] };
  }
  return { changes: { [a.document.uri]: edits } };
}

/**
 * The rewrite of one finding (one pass of src/fix.ts on that finding alone), or of every finding of
 * the file (`all`: what --fix writes, passes until nothing changes), as a WorkspaceEdit; undefined
 * when --fix would leave them (syntax error, no free migration name) or the client cannot create
 * the new migration files the rewrite needs.
 */
export function rewriteEdit(a: Analysis, findings: Finding[], caps: EditCapabilities, all = false): WorkspaceEdit | undefined {
  const fixable = findings.filter((f) => f.fix);
  if (fixable.length === 0) return undefined;
  let plan: FilePlan | undefined;
  if (all) plan = planAllFixes(a.inputs, a.settings.lintOptions, a.result).plans.find((p) => p.path === a.file.path);
  else {
    const only = { ...a.result, files: [{ ...a.file, findings: fixable }] };
    plan = planFixes(only, a.settings.lintOptions, a.allPaths).find((p) => p.path === a.file.path);
    if (plan && fixable.every((f) => plan!.skipped.some((s) => s.ruleId === f.ruleId && s.line === f.line))) return undefined;
  }
  if (!plan) return undefined;
  if (plan.text === plan.original && plan.newFiles.length === 0) return undefined;
  const own = replaceLines(a, plan.original, plan.text);
  if (plan.newFiles.length === 0) return textEdit(a, [own], caps);
  if (!caps.documentChanges || !caps.createFiles || !a.document.uri.startsWith('file:')) return undefined;
  const changes: WorkspaceEdit['documentChanges'] = [];
  if (plan.text !== plan.original) changes.push(TextDocumentEdit.create(OptionalVersionedTextDocumentIdentifier.create(a.document.uri, a.document.version), [own]));
  const create = (file: string, text: string): void => {
    const uri = pathToFileURL(file).href;
    changes.push(CreateFile.create(uri, { overwrite: false, ignoreIfExists: false }));
    changes.push(TextDocumentEdit.create(OptionalVersionedTextDocumentIdentifier.create(uri, null), [TextEdit.insert({ line: 0, character: 0 }, text)]));
  };
  for (const nf of plan.newFiles) {
    create(nf.path, nf.text);
    if (nf.conf !== undefined) create(`${nf.path}.conf`, nf.conf);
  }
  return { documentChanges: changes };
}

function diagnosticFor(a: Analysis, f: Finding, diagnostics: Diagnostic[]): Diagnostic[] {
  const r = findingRange(a, f);
  return diagnostics.filter(
    (d) =>
      d.source === 'pgd-lint' &&
      d.code === f.ruleId &&
      d.range.start.line === r.start.line &&
      d.range.start.character === r.start.character &&
      d.range.end.line === r.end.line &&
      d.range.end.character === r.end.character,
  );
}

/** The code actions for the findings under `range`. */
export function codeActions(a: Analysis, range: Range, diagnostics: Diagnostic[], only: string[] | undefined, caps: EditCapabilities): CodeAction[] {
  const actions: CodeAction[] = [];
  const shown = shownFindings(a);
  const here = shown.filter((f) => overlaps(findingRange(a, f), range));
  const quick = wanted(only, CodeActionKind.QuickFix);
  for (const f of here) {
    const diags = diagnosticFor(a, f, diagnostics);
    if (quick && f.fix) {
      const edit = rewriteEdit(a, [f], caps);
      if (edit) actions.push({ title: `Apply the safe rewrite (${f.ruleId})`, kind: CodeActionKind.QuickFix, diagnostics: diags, isPreferred: true, edit });
    }
    // A syntax error is fixed by editing; an unused directive by removing it.
    if (!quick || f.ruleId === SYNTAX_ERROR.id || f.ruleId === UNUSED_IGNORE.id) continue;
    const stmtEdit = ignoreStatementEdit(a, f);
    if (stmtEdit) actions.push({ title: `Ignore ${f.ruleId} for this statement`, kind: CodeActionKind.QuickFix, diagnostics: diags, edit: textEdit(a, [stmtEdit], caps) });
    actions.push({ title: `Ignore ${f.ruleId} for this file`, kind: CodeActionKind.QuickFix, diagnostics: diags, edit: textEdit(a, [ignoreFileEdit(a, f)], caps) });
  }
  if (wanted(only, FIX_ALL_KIND) && (only !== undefined || shown.filter((f) => f.fix).length > 1)) {
    const edit = rewriteEdit(a, shown, caps, true);
    if (edit) actions.push({ title: 'Apply every safe rewrite of this file (pgd-lint)', kind: FIX_ALL_KIND, edit });
  }
  return actions;
}
