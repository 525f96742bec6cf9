/** Writing report and baseline files: whole or not at all. */
import * as fs from 'fs';
import * as path from 'path';
import { UsageError } from './input';

/** Why a write failed, in words (`permission denied`), from the error's code. */
export function writeFailure(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such directory';
  if (code === 'ENOTDIR') return 'a parent is not a directory';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'is a directory';
  if (code === 'EROFS') return 'read-only file system';
  if (code === 'ENOSPC') return 'no space left on device';
  return (e as Error).message;
}

/**
 * Writes a file atomically: the text goes to a temporary file in the same folder, which is then
 * renamed over the target, so a reader never sees half a report. A failure is a UsageError (exit 2)
 * naming the file, as `what` says (`--output-file`, `--write-baseline`).
 */
export function writeFileAtomic(file: string, text: string, what: string): void {
  const dir = path.dirname(file);
  let stat: fs.Stats | undefined;
  try {
    stat = fs.statSync(file);
  } catch {
    stat = undefined;
  }
  if (stat?.isDirectory()) throw new UsageError(`${what} ${file}: cannot write: is a directory`);
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${Date.now().toString(36)}.tmp`);
  try {
    fs.writeFileSync(tmp, text, { mode: stat ? stat.mode & 0o777 : 0o666 });
  } catch (e) {
    throw new UsageError(`${what} ${file}: cannot write: ${writeFailure(e)}`);
  }
  try {
    fs.renameSync(tmp, file);
  } catch (e) {
    try {
      fs.unlinkSync(tmp);
    } catch {
      /* already gone */
    }
    throw new UsageError(`${what} ${file}: cannot write: ${writeFailure(e)}`);
  }
}
