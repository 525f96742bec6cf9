/**
 * The config file: `pgd-lint.config.json`, `.pgd-lint.json`, or a "pgdLint" key in package.json,
 * found by walking up from the current folder to the repository root; `--config` names one.
 */
import * as fs from 'fs';
import * as path from 'path';
import { UsageError } from './input';

export type RuleSetting = 'off' | 'warn' | 'error';

export interface Config {
  target?: string;
  runner?: string;
  rules?: Record<string, RuleSetting | [RuleSetting, Record<string, unknown>]>;
  include?: string[];
  exclude?: string[];
  /** Per-rule options: { "<rule-id>": { option: value } }. */
  ruleOptions?: Record<string, Record<string, unknown>>;
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

/** Reads and parses a config file (JSON). Validation against the schema is separate. */
export function readConfig(file: string): LoadedConfig {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`${file}: cannot read config: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${file}: invalid JSON: ${(e as Error).message}`);
  }
  if (path.basename(file) === 'package.json') json = (json as Record<string, unknown>).pgdLint;
  if (!json || typeof json !== 'object' || Array.isArray(json)) throw new UsageError(`${file}: the config must be a JSON object`);
  return { config: json as Config, file };
}
