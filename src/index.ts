/**
 * The library entry (package.json "main"): the same pipeline the CLI wires together, for tools that
 * embed pgd-lint. Call `loadParser()` once before `lint()`.
 */
export { loadParser } from './parser';
export { buildModel } from './model';
export type { InputFile, RunModel, FileModel, Stmt, Transaction } from './model';
export { lint } from './lint';
export type { LintOptions, LintResult, FileResult, Finding } from './lint';
export { planFixes } from './fix';
export { allRules, allMetas, metaOf } from './registry';
export type { Rule, RuleMeta } from './rule';
export { RUNNERS, RUNNER_NAMES } from './runners';
export { parseTarget, TARGET_NAMES, DEFAULT_TARGET } from './targets';
export type { Target } from './targets';
