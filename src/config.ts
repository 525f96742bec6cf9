/**
 * The config file: `pgd-lint.config.json`, `.pgd-lint.json`, or a "pgdLint" key in package.json,
 * found by walking up from the current folder to the repository root; `--config` names one.
 *
 * The file is checked against a JSON Schema (the one shipped as schema/pgd-lint.config.schema.json)
 * with ajv. The rule-specific parts of the schema come from the rules' metadata, so a new rule or
 * option is known to the config without a hand-kept list.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { UsageError } from './input';
import { allMetas } from './registry';
import type { RuleMeta } from './rule';
import { FORMATS } from './reporters/formats';
import { RUNNER_NAMES } from './runners';
import { TARGET_NAMES } from './targets';

export type RuleSetting = 'off' | 'warn' | 'warning' | 'error' | 0 | 1 | 2;

export interface Config {
  $schema?: string;
  target?: string;
  runner?: string;
  format?: string;
  rules?: Record<string, RuleSetting | [RuleSetting, Record<string, unknown>?]>;
  include?: string[];
  exclude?: string[];
  maxWarnings?: number;
  includeDown?: boolean;
  /** Per-rule options: `"<rule-id>": { option: value }`. */
  [key: string]: unknown;
}

export interface LoadedConfig {
  config: Config;
  /** The file it came from, if any. */
  file?: string;
}

const NAMES = ['pgd-lint.config.json', '.pgd-lint.json'];

/** Finds the config for a folder: nearest file walking up, stopping at the repository root. */
export function discoverConfig(cwd: string): string | undefined {
  let dir = path.resolve(cwd);
  for (;;) {
    for (const n of NAMES) {
      const p = path.join(dir, n);
      if (fs.existsSync(p)) return p;
    }
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg)) {
      try {
        const json = JSON.parse(fs.readFileSync(pkg, 'utf8'));
        if (json && typeof json === 'object' && 'pgdLint' in json) return pkg;
      } catch {
        /* a broken package.json is not our config */
      }
    }
    if (fs.existsSync(path.join(dir, '.git'))) return undefined;
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** Reads, parses and validates a config file; a problem is a UsageError naming file:line:column. */
export function readConfig(file: string): LoadedConfig {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : code === 'EACCES' ? 'permission denied' : (e as Error).message;
    throw new UsageError(`${file}: cannot read config: ${why}`);
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    const msg = (e as Error).message;
    const m = /at position (\d+)/.exec(msg);
    const where = m ? `${file}:${lineColumn(text, Number(m[1]))}` : file;
    throw new UsageError(`${where}: invalid JSON: ${msg.replace(/\s*in JSON at position \d+.*$/, '').replace(/\s*\(line \d+ column \d+\)$/, '')}`);
  }
  let pointer = '';
  if (path.basename(file) === 'package.json') {
    if (!json || typeof json !== 'object' || !('pgdLint' in json)) throw new UsageError(`${file}: no "pgdLint" key`);
    json = (json as Record<string, unknown>).pgdLint;
    pointer = '/pgdLint';
  }
  if (!json || typeof json !== 'object' || Array.isArray(json)) {
    throw new UsageError(`${file}:${lineColumn(text, locate(text, pointer)?.value ?? 0)}: the config must be a JSON object`);
  }
  validateConfig(json, file, text, pointer);
  return { config: json as Config, file };
}

// ---------------------------------------------------------------------------------------------
// The schema

type Schema = Record<string, unknown>;

const SEVERITIES = ['off', 'warn', 'error', 'warning', 0, 1, 2];

/**
 * What the rules' option metadata does not say: the values an option accepts. Every number option is
 * a count (a whole number of 0 or more); a batch of 0 rows would make the suggested backfill loop
 * forever, and an unknown index strategy would be ignored without a word.
 */
const OPTION_LIMITS: Record<string, Schema> = {
  batchSize: { minimum: 1 },
  indexStrategy: { enum: ['concurrently', 'run-on-all-nodes'] },
};

function optionSchema(name: string, spec: NonNullable<RuleMeta['options']>[string]): Schema {
  const base: Schema = { description: spec.description, default: spec.default };
  if (spec.type === 'string[]') return { ...base, type: 'array', items: { type: 'string' } };
  if (spec.type === 'number') return { ...base, type: 'integer', minimum: 0, ...OPTION_LIMITS[name] };
  return { ...base, type: spec.type, ...OPTION_LIMITS[name] };
}

function optionsSchema(m: RuleMeta): Schema {
  const properties: Schema = {};
  for (const [k, spec] of Object.entries(m.options ?? {})) properties[k] = optionSchema(k, spec);
  return { description: `Options of ${m.id}`, type: 'object', additionalProperties: false, properties };
}

/**
 * The JSON Schema of the config file. The rule ids, and each rule's options, come from the rules'
 * metadata; schema/pgd-lint.config.schema.json is this, written by `npm run schema`.
 */
export function configSchema(): Schema {
  const metas = allMetas();
  const severity = (description: string): Schema => ({
    description,
    enum: SEVERITIES,
  });
  const ruleProps: Schema = {};
  const perRule: Schema = {};
  for (const m of metas) {
    if (m.options && Object.keys(m.options).length > 0) {
      ruleProps[m.id] = {
        description: `${m.description}. A severity, or [severity, options].`,
        anyOf: [
          severity('off, warn or error'),
          { type: 'array', items: [severity('off, warn or error'), optionsSchema(m)], minItems: 1, additionalItems: false },
        ],
      };
      perRule[m.id] = optionsSchema(m);
    } else {
      ruleProps[m.id] = severity(`${m.description}: off, warn or error`);
    }
  }
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'pgd-lint config',
    description: 'pgd-lint.config.json, .pgd-lint.json, or the "pgdLint" key of package.json',
    type: 'object',
    additionalProperties: false,
    properties: {
      $schema: { description: 'The schema of this file (for editors)', type: 'string' },
      target: { description: 'The cluster the migrations will run on (default pgd5)', enum: [...TARGET_NAMES] },
      runner: { description: 'How the migration tool runs files (default plain)', enum: [...RUNNER_NAMES] },
      format: { description: 'Output format (default stylish)', enum: [...FORMATS] },
      rules: {
        description: 'Severity per rule id: off, warn or error (rules that take options also accept [severity, options])',
        type: 'object',
        additionalProperties: false,
        properties: ruleProps,
      },
      include: { description: 'Paths or globs to lint when none are given on the command line', type: 'array', items: { type: 'string' } },
      exclude: { description: 'Globs to leave out', type: 'array', items: { type: 'string' } },
      maxWarnings: { description: 'Exit 1 when warnings exceed this number', type: 'integer', minimum: 0 },
      includeDown: { description: 'Also lint down migrations', type: 'boolean' },
      ...perRule,
    },
  };
}

let compiled: ValidateFunction | undefined;

function validator(): ValidateFunction {
  if (!compiled) {
    // Loaded only when there is a config file to check (ajv takes a tenth of a second to load).
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const Ajv = (require('ajv') as typeof import('ajv')).default;
    compiled = new Ajv({ allErrors: true, strict: true, strictTuples: false, verbose: true }).compile(configSchema());
  }
  return compiled;
}

/** Validates a parsed config; throws a UsageError naming the file, line and column of the first problem. */
export function validateConfig(config: unknown, file: string, text?: string, pointer = ''): void {
  const validate = validator();
  if (validate(config)) return;
  const err = pickError(validate.errors ?? []);
  const { message, at } = describe(err);
  let where = file;
  if (text !== undefined) {
    const loc = locate(text, pointer + at.pointer);
    if (loc) where = `${file}:${lineColumn(text, at.key && loc.key !== undefined ? loc.key : loc.value)}`;
  }
  throw new UsageError(`${where}: ${message}`);
}

/** The error to show: the deepest one, unknown keys first (an anyOf's own error says least). */
function pickError(errors: ErrorObject[]): ErrorObject {
  const depth = (e: ErrorObject): number => (e.instancePath.match(/\//g) ?? []).length + (e.keyword === 'additionalProperties' ? 1 : 0);
  const useful = errors.filter((e) => e.keyword !== 'anyOf');
  const list = useful.length > 0 ? useful : errors;
  return list.reduce((best, e) => (depth(e) > depth(best) ? e : best), list[0]);
}

function unescapePointer(s: string): string {
  return s.replace(/~1/g, '/').replace(/~0/g, '~');
}

function describe(e: ErrorObject): { message: string; at: { pointer: string; key: boolean } } {
  const segs = e.instancePath.split('/').slice(1).map(unescapePointer);
  const dotted = segs.length > 0 ? `"${segs.join('.')}"` : 'the config';
  const value = (e.data ?? undefined) as unknown;
  const ids = allMetas().map((m) => m.id);
  if (e.keyword === 'additionalProperties') {
    const key = String((e.params as { additionalProperty: string }).additionalProperty);
    const at = { pointer: `${e.instancePath}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`, key: true };
    if (segs.length === 0) {
      if (ids.includes(key)) return { message: `unknown key "${key}": the rule "${key}" takes no options (set its severity under "rules")`, at };
      return { message: `unknown key "${key}"`, at };
    }
    if (segs.length === 1 && segs[0] === 'rules') return { message: `unknown rule id "${key}" in "rules"`, at };
    const ruleId = segs[0] === 'rules' ? segs[1] : segs[0];
    const meta = allMetas().find((m) => m.id === ruleId);
    const valid = Object.keys(meta?.options ?? {});
    return { message: `unknown option "${key}" of rule "${ruleId}"${valid.length ? ` (options: ${valid.join(', ')})` : ''}`, at };
  }
  const at = { pointer: e.instancePath, key: false };
  if (e.keyword === 'enum') {
    if (segs.length === 1 && segs[0] === 'target') return { message: `unknown target ${JSON.stringify(value)}; valid targets: ${TARGET_NAMES.join(', ')}`, at };
    if (segs.length === 1 && segs[0] === 'runner') return { message: `unknown runner ${JSON.stringify(value)}; valid runners: ${RUNNER_NAMES.join(', ')}`, at };
    if (segs.length === 1 && segs[0] === 'format') return { message: `unknown format ${JSON.stringify(value)}; valid formats: ${FORMATS.join(', ')}`, at };
    if (segs[0] === 'rules' && (segs.length === 2 || segs[2] === '0')) return { message: `"rules.${segs[1]}": unknown severity ${JSON.stringify(value)} (use off, warn or error)`, at };
    const allowed = (e.params as { allowedValues?: unknown[] }).allowedValues;
    if (allowed) return { message: `${dotted} must be one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}, got ${JSON.stringify(value)}`, at };
  }
  return { message: `${dotted} ${e.message ?? 'is not valid'}`, at };
}

// ---------------------------------------------------------------------------------------------
// Positions in the JSON text, for messages

/** "line:column" (1-based, columns in characters) of a string index. */
function lineColumn(text: string, index: number): string {
  let line = 1;
  let start = 0;
  for (let i = 0; i < index && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      start = i + 1;
    }
  }
  return `${line}:${index - start + 1}`;
}

/**
 * Where the value (and the key, for a member) at a JSON pointer starts in a text that is valid
 * JSON. A small scanner of its own: JSON.parse keeps no positions.
 */
function locate(text: string, pointer: string): { key?: number; value: number } | undefined {
  let i = 0;
  let found: { key?: number; value: number } | undefined;
  const ws = (): void => {
    while (i < text.length && ' \t\n\r'.includes(text[i])) i++;
  };
  const str = (): string => {
    const start = i;
    i++;
    while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const value = (ptr: string, key?: number): void => {
    ws();
    if (ptr === pointer && !found) found = { key, value: i };
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      while (text[i] !== '}') {
        ws();
        const k = i;
        const name = str();
        ws();
        i++; // ':'
        value(`${ptr}/${name.replace(/~/g, '~0').replace(/\//g, '~1')}`, k);
        ws();
        if (text[i] === ',') i++;
        ws();
      }
      i++;
    } else if (c === '[') {
      i++;
      ws();
      let n = 0;
      while (text[i] !== ']') {
        value(`${ptr}/${n++}`);
        ws();
        if (text[i] === ',') i++;
        ws();
      }
      i++;
    } else if (c === '"') {
      str();
    } else {
      while (i < text.length && !',]} \t\n\r'.includes(text[i])) i++;
    }
  };
  try {
    value('');
  } catch {
    return undefined;
  }
  return found;
}

// ---------------------------------------------------------------------------------------------
// --print-config

export interface MergedSettings {
  target: string;
  /** Severity of every rule on the target, overrides applied. */
  severity: (meta: RuleMeta) => 'off' | 'warning' | 'error';
  runner: string;
  format: string;
  ruleOptions: Record<string, Record<string, unknown>>;
  include: string[];
  exclude: string[];
  maxWarnings?: number;
  includeDown: boolean;
}

/**
 * The merged settings in the config file's own shape (it validates against the schema, so it can be
 * saved as a config file): every rule's severity, and every option with its value.
 */
export function printableConfig(s: MergedSettings): Config {
  const rules: Record<string, RuleSetting> = {};
  const options: Record<string, Record<string, unknown>> = {};
  for (const m of allMetas()) {
    const sev = s.severity(m);
    rules[m.id] = sev === 'warning' ? 'warn' : sev;
    if (m.options && Object.keys(m.options).length > 0) {
      const o: Record<string, unknown> = {};
      for (const [k, spec] of Object.entries(m.options)) o[k] = spec.default;
      options[m.id] = { ...o, ...(s.ruleOptions[m.id] ?? {}) };
    }
  }
  return {
    target: s.target,
    runner: s.runner,
    format: s.format,
    include: s.include,
    exclude: s.exclude,
    ...(s.maxWarnings !== undefined ? { maxWarnings: s.maxWarnings } : {}),
    includeDown: s.includeDown,
    rules,
    ...options,
  };
}
