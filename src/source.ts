/**
 * Source text of one file and the conversions between the three ways a position is written:
 * UTF-8 byte offsets (what libpg-query reports), string indices (what JavaScript uses) and
 * 1-based line / column, where a column counts characters (code points) of the line.
 */
export interface Position {
  line: number;
  column: number;
}

const CHECKPOINT = 256;

export class SourceText {
  readonly text: string;
  /** True when every character is ASCII: bytes, indices and characters then coincide. */
  readonly ascii: boolean;
  private readonly lineStarts: number[];
  /** byteAt[k] = UTF-8 byte offset of string index k * CHECKPOINT (non-ASCII texts only). */
  private byteCheckpoints: Int32Array | null = null;

  constructor(text: string) {
    this.text = text;
    // eslint-disable-next-line no-control-regex
    this.ascii = !/[^\x00-\x7f]/.test(text);
    const starts = [0];
    for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
    this.lineStarts = starts;
  }

  get lineCount(): number {
    return this.lineStarts.length;
  }

  /** String index of the first character of a 1-based line. */
  lineStart(line: number): number {
    return this.lineStarts[Math.max(0, Math.min(line - 1, this.lineStarts.length - 1))];
  }

  /** The text of a 1-based line without its line break. */
  lineText(line: number): string {
    const start = this.lineStart(line);
    let end = line < this.lineStarts.length ? this.lineStarts[line] - 1 : this.text.length;
    if (end > start && this.text.charCodeAt(end - 1) === 13) end--;
    return this.text.slice(start, end);
  }

  /** 1-based line and character column of a string index. */
  position(index: number): Position {
    const i = Math.max(0, Math.min(index, this.text.length));
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid] <= i) lo = mid;
      else hi = mid - 1;
    }
    const start = this.lineStarts[lo];
    let column = i - start + 1;
    if (!this.ascii) {
      // Surrogate pairs are one character.
      for (let k = start; k < i - 1; k++) {
        const c = this.text.charCodeAt(k);
        if (c >= 0xd800 && c <= 0xdbff) {
          column--;
          k++;
        }
      }
    }
    return { line: lo + 1, column };
  }

  /** String index of a 1-based line and character column. */
  indexOf(pos: Position): number {
    const start = this.lineStart(pos.line);
    let i = start;
    for (let col = 1; col < pos.column && i < this.text.length; col++) {
      const c = this.text.charCodeAt(i);
      i += c >= 0xd800 && c <= 0xdbff ? 2 : 1;
    }
    return i;
  }

  /** UTF-8 byte offset of a string index. */
  byteOf(index: number): number {
    if (this.ascii) return index;
    const cps = this.checkpoints();
    const k = Math.min(Math.floor(index / CHECKPOINT), cps.length - 1);
    let byte = cps[k];
    for (let i = k * CHECKPOINT; i < index; i++) byte += utf8Len(this.text, i) ? utf8Len(this.text, i) : 0;
    return byte;
  }

  /** String index of a UTF-8 byte offset (an offset inside a character maps to that character). */
  indexOfByte(byte: number): number {
    if (this.ascii) return Math.max(0, Math.min(byte, this.text.length));
    const cps = this.checkpoints();
    let lo = 0;
    let hi = cps.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (cps[mid] <= byte) lo = mid;
      else hi = mid - 1;
    }
    let i = lo * CHECKPOINT;
    let b = cps[lo];
    while (i < this.text.length) {
      const len = utf8Len(this.text, i);
      if (b + len > byte) break;
      b += len;
      i += len === 4 ? 2 : 1;
    }
    return i;
  }

  private checkpoints(): Int32Array {
    if (this.byteCheckpoints) return this.byteCheckpoints;
    const n = Math.floor(this.text.length / CHECKPOINT) + 1;
    const cps = new Int32Array(n);
    let byte = 0;
    let k = 0;
    for (let i = 0; i < this.text.length; ) {
      while (k < n && k * CHECKPOINT <= i) {
        // An index in the middle of a surrogate pair gets the byte offset of the pair.
        cps[k++] = byte;
      }
      const len = utf8Len(this.text, i);
      byte += len;
      i += len === 4 ? 2 : 1;
    }
    while (k < n) cps[k++] = byte;
    this.byteCheckpoints = cps;
    return cps;
  }
}

/** UTF-8 length of the character starting at string index i (0 for the low half of a pair). */
function utf8Len(s: string, i: number): number {
  const c = s.charCodeAt(i);
  if (c < 0x80) return 1;
  if (c < 0x800) return 2;
  if (c >= 0xd800 && c <= 0xdbff) return 4;
  if (c >= 0xdc00 && c <= 0xdfff) return 0;
  return 3;
}
