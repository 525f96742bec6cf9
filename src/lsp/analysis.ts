/**
 * Lints one editor document as CI lints it: the migrations of its folder that the runner applies
 * before and after it are replayed (unreported) around the buffer's text, with the config that
 * applies to the document. The result is kept per document for diagnostics, code actions and hover.
 */
import * as path from 'path';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { Diagnostic, DiagnosticSeverity } from 'vscode-languageserver/node';
import { FileResult, Finding, LintResult, lint } from '../lint';
import type { InputFile } from '../model';
import { neighboursOf } from '../neighbours';
import type { DocSettings } from './workspace';

export interface Analysis {
  /** The document as it was linted (a snapshot: the editor's document changes in place). */
  document: TextDocument;
  /** The path the document was linted under (absolute for files on disk). */
  path: string;
  settings: DocSettings;
  result: LintResult;
  /** The document's own result. */
  file: FileResult;
  /** The run's inputs: the neighbours and the document, in the runner's order. */
  inputs: InputFile[];
  /** Every migration path of the run (names a rewrite must not take). */
  allPaths: string[];
  /** Neighbours that could not be read (left out of the replay). */
  unreadable: string[];
}

export interface AnalyseOptions {
  /** The document's file path, when it is a file on disk (file: URI). */
  filePath?: string;
  settings: DocSettings;
  /** Reads a neighbour: an open editor buffer or the file (throws when it cannot). */
  read: (abs: string, shown: string) => string;
}

/** Lints the document with its neighbours. */
export function analyse(live: TextDocument, opts: AnalyseOptions): Analysis {
  const text = live.getText();
  const document = TextDocument.create(live.uri, live.languageId, live.version, text);
  const shown = opts.filePath ?? (document.uri.split('/').pop() || 'untitled.sql');
  const own: InputFile = { path: shown, rel: path.basename(shown), text, report: true };
  let inputs: InputFile[] = [own];
  const unreadable: string[] = [];
  if (opts.filePath) {
    const lo = opts.settings.lintOptions;
    const nb = neighboursOf(opts.filePath, path.dirname(opts.filePath), {
      runner: lo.runner,
      includeDown: lo.includeDown,
      exclude: opts.settings.settings.exclude,
      read: (abs, name) => {
        try {
          return opts.read(abs, name);
        } catch (e) {
          // One unreadable neighbour must not hide the document's findings.
          unreadable.push(`${name}: ${(e as Error).message}`);
          return '';
        }
      },
    });
    if (nb) {
      own.rel = nb.rel;
      inputs = [...nb.before, own, ...nb.after];
    }
  }
  const result = lint(inputs, opts.settings.lintOptions);
  const file = result.files.find((f) => f.file.report) ?? { path: shown, file: result.model.files[0], findings: [] };
  return { document, path: shown, settings: opts.settings, result, file, inputs, allPaths: inputs.map((i) => i.path), unreadable };
}

/** Findings shown as diagnostics: not suppressed by a directive. */
export function shownFindings(a: Analysis): Finding[] {
  return a.file.findings.filter((f) => !f.suppressed);
}

/** The range of a finding in the document (string indices are UTF-16 offsets, as LSP positions). */
export function findingRange(a: Analysis, f: Finding): Diagnostic['range'] {
  return { start: a.document.positionAt(f.start), end: a.document.positionAt(Math.max(f.start, f.end)) };
}

export interface DiagnosticData {
  ruleId: string;
  fixable: boolean;
}

/** @param docsUrl the link to a rule's docs page */
export function toDiagnostics(a: Analysis, docsUrl: (id: string) => string | undefined): Diagnostic[] {
  return shownFindings(a).map((f) => {
    const d: Diagnostic = {
      range: findingRange(a, f),
      severity: f.severity === 'error' ? DiagnosticSeverity.Error : DiagnosticSeverity.Warning,
      code: f.ruleId,
      source: 'pgd-lint',
      message: f.message,
      data: { ruleId: f.ruleId, fixable: f.fixable } satisfies DiagnosticData,
    };
    const href = docsUrl(f.ruleId);
    if (href) d.codeDescription = { href };
    return d;
  });
}
