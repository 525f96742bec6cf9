/**
 * What the language server knows about the files around a document: the config that applies to it
 * (found as the CLI finds it, walking up from the document's folder to the repository root, and
 * re-read when it changes) and the text of its neighbour migrations (the editor's buffer when the
 * neighbour is open, else the file on disk, re-read when it changes).
 */
import * as fs from 'fs';
import * as path from 'path';
import { Settings, resolveSettings } from '../cli';
import { discoverConfig, readConfig } from '../config';
import { decodeText } from '../input';
import type { LintOptions } from '../lint';
import { RUNNERS } from '../runners';

export interface DocSettings {
  settings: Settings;
  lintOptions: LintOptions;
  /** The config file that applies, if any. */
  configFile?: string;
}

interface CachedConfig {
  /** Modification time and size of the config file when it was read. */
  stamp: string;
  value: DocSettings;
}

function stampOf(file: string): string {
  try {
    const st = fs.statSync(file);
    return `${st.mtimeMs}:${st.size}`;
  } catch {
    return 'missing';
  }
}

/** File names that may hold the config (src/config.ts), watched for changes. */
export const CONFIG_FILE_NAMES = ['pgd-lint.config.json', '.pgd-lint.json', 'package.json'];

export function isConfigFile(file: string): boolean {
  return CONFIG_FILE_NAMES.includes(path.basename(file));
}

/** The settings of each document, from the config that applies to its folder. */
export class SettingsCache {
  private readonly discovered = new Map<string, string | undefined>();
  private readonly configs = new Map<string, CachedConfig>();

  /** @param configFile a config file for every document (the server's `configFile` option, like --config). */
  constructor(private readonly configFile?: string) {}

  /** Forgets what was discovered and read (a config file was created, changed or deleted). */
  clear(): void {
    this.discovered.clear();
    this.configs.clear();
  }

  /** The settings for a document in `dir`; throws UsageError for a bad config, as the CLI does. */
  forFolder(dir: string): DocSettings {
    let file = this.configFile;
    if (file === undefined) {
      if (!this.discovered.has(dir)) this.discovered.set(dir, discoverConfig(dir));
      file = this.discovered.get(dir);
    }
    const key = file ?? '';
    const stamp = file ? stampOf(file) : '';
    const cached = this.configs.get(key);
    if (cached && cached.stamp === stamp) return cached.value;
    const loaded = file ? readConfig(file) : undefined;
    // The output format of the config does not matter here; json is always there.
    const settings = resolveSettings({ format: 'json' }, loaded);
    const value: DocSettings = {
      settings,
      configFile: file,
      lintOptions: {
        target: settings.target,
        runner: RUNNERS[settings.runnerName],
        includeDown: settings.includeDown,
        severities: settings.severities,
        ruleOptions: settings.ruleOptions,
      },
    };
    this.configs.set(key, { stamp, value });
    return value;
  }
}

/** Texts of neighbour migrations read from disk, re-read when their size or time changes. */
export class FileTexts {
  private readonly cache = new Map<string, { stamp: string; text: string }>();

  forget(file: string): void {
    this.cache.delete(file);
  }

  clear(): void {
    this.cache.clear();
  }

  /** The file's text (UTF-8, BOM removed); throws UsageError when it cannot be read or decoded. */
  read(abs: string, shown: string): string {
    const stamp = stampOf(abs);
    const hit = this.cache.get(abs);
    if (hit && hit.stamp === stamp) return hit.text;
    const text = decodeText(fs.readFileSync(abs), shown);
    this.cache.set(abs, { stamp, text });
    return text;
  }
}
