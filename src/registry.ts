/**
 * The rules: every module in rules/ (one file per rule), plus the two findings the linter itself
 * makes (`syntax-error`, `unused-ignore`). Adding a rule is adding a file there.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { Rule, RuleMeta } from './rule';

export const SYNTAX_ERROR: RuleMeta = {
  id: 'syntax-error',
  description: 'A statement the PostgreSQL grammar rejects; the rest of the file is still linted',
  severity: () => 'error',
  fixable: false,
};

export const UNUSED_IGNORE: RuleMeta = {
  id: 'unused-ignore',
  description: 'An ignore directive that names an unknown rule or suppresses nothing',
  severity: () => 'warning',
  fixable: false,
};

let cache: Rule[] | null = null;

/**
 * Sets the rules instead of reading rules/ (the single-file build of scripts/bundle.js lists every
 * module of rules/ when it is built, so that a run loads one file instead of one per rule).
 */
export function registerRules(rules: Rule[]): void {
  cache = [...rules].sort((a, b) => (a.meta.id < b.meta.id ? -1 : 1));
}

/** All rules, sorted by id. */
export function allRules(): Rule[] {
  if (cache) return cache;
  const dir = path.join(__dirname, '..', 'rules');
  const files = fs
    .readdirSync(dir)
    .filter((f) => (f.endsWith('.js') || f.endsWith('.ts')) && !f.endsWith('.d.ts'))
    .sort();
  const rules: Rule[] = [];
  for (const f of files) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require(path.join(dir, f)) as { rule?: Rule };
    if (mod.rule?.meta?.id) rules.push(mod.rule);
  }
  rules.sort((a, b) => (a.meta.id < b.meta.id ? -1 : 1));
  cache = rules;
  return rules;
}

/** Every rule's meta, the linter's own findings included. */
export function allMetas(): RuleMeta[] {
  return [...allRules().map((r) => r.meta), SYNTAX_ERROR, UNUSED_IGNORE].sort((a, b) => (a.id < b.id ? -1 : 1));
}

export function metaOf(id: string): RuleMeta | undefined {
  return allMetas().find((m) => m.id === id);
}
