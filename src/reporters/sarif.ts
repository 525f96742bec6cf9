import * as path from 'path';
import { pathToFileURL } from 'url';
import type * as Sarif from 'sarif';
import type { ReportedFinding, Reporter } from './types';

/** The base that relative artifact URIs resolve against (the folder pgd-lint ran in). */
const SRCROOT = '%SRCROOT%';

/** A relative path as a relative URI reference: `/` separators, each segment percent-encoded. */
function relativeUri(p: string): string {
  return p
    .split(/[\\/]/)
    .map((seg) => encodeURIComponent(seg))
    .join('/');
}

function artifactLocation(p: string): Sarif.ArtifactLocation {
  if (path.isAbsolute(p)) return { uri: pathToFileURL(p).href };
  return { uri: relativeUri(p), uriBaseId: SRCROOT };
}

function level(sev: string | undefined): Sarif.ReportingConfiguration.level {
  return sev === 'error' ? 'error' : sev === 'warning' ? 'warning' : 'none';
}

function messageText(f: ReportedFinding): string {
  return f.suggestion ? `${f.message}\n\nSuggestion:\n${f.suggestion}` : f.message;
}

/**
 * `--format sarif`: SARIF 2.1.0, one run. Rule metadata with help links and the docs page as help;
 * suppressed findings are included and marked with an in-source suppression (code scanning shows
 * them as dismissed); columns count code points, as everywhere in pgd-lint.
 */
export const sarif: Reporter = (input) => {
  const ruleIndex = new Map(input.rules.map((r, i) => [r.id, i]));
  const rules: Sarif.ReportingDescriptor[] = input.rules.map((r) => ({
    id: r.id,
    name: r.id,
    shortDescription: { text: r.description },
    fullDescription: { text: r.description },
    ...(r.helpUri ? { helpUri: r.helpUri } : {}),
    help: {
      text: `${r.description}. Documentation: ${r.helpUri ?? r.docs}`,
      ...(r.help ? { markdown: r.help } : {}),
    },
    defaultConfiguration: { level: level(r.severity), enabled: r.severity !== 'off' },
    properties: { tags: ['pgd', 'bdr', 'migrations'], ...(r.fixable !== undefined ? { fixable: r.fixable } : {}) },
  }));

  const artifacts: Sarif.Artifact[] = [];
  const results: Sarif.Result[] = [];
  for (const file of input.files) {
    const location = artifactLocation(file.path);
    const artifactIndex = artifacts.length;
    artifacts.push({ location, sourceLanguage: 'sql' });
    for (const f of file.findings) {
      const result: Sarif.Result = {
        ruleId: f.ruleId,
        level: f.severity === 'error' ? 'error' : 'warning',
        message: { text: messageText(f) },
        locations: [
          {
            physicalLocation: {
              artifactLocation: { ...location, index: artifactIndex },
              region: { startLine: f.line, startColumn: f.column, endLine: f.endLine, endColumn: f.endColumn },
            },
          },
        ],
        properties: { fixable: f.fixable },
      };
      const idx = ruleIndex.get(f.ruleId);
      if (idx !== undefined) result.ruleIndex = idx;
      if (f.fingerprint) result.partialFingerprints = { 'pgdLintFingerprint/v1': f.fingerprint };
      if (f.suppressed) result.suppressions = [{ kind: 'inSource', justification: `pgd-lint-ignore comment (${f.suppressed})` }];
      results.push(result);
    }
  }

  const run: Sarif.Run = {
    tool: {
      driver: {
        name: input.tool?.name ?? 'pgd-lint',
        ...(input.tool?.version ? { version: input.tool.version, semanticVersion: input.tool.version } : {}),
        ...(input.tool?.informationUri ? { informationUri: input.tool.informationUri } : {}),
        rules,
      },
    },
    ...(input.cwd ? { originalUriBaseIds: { [SRCROOT]: { uri: pathToFileURL(input.cwd + path.sep).href } } } : {}),
    artifacts,
    results,
    columnKind: 'unicodeCodePoints',
    properties: { target: input.target, summary: input.summary },
  };
  const log: Sarif.Log = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [run],
  };
  return JSON.stringify(log, null, 2) + '\n';
};
