/**
 * Natural order, as migration tools apply files: digit runs compare as numbers, so
 * `V2__a.sql` comes before `V10__b.sql` and `0002_x` before `0010_y`.
 */
export function naturalCompare(a: string, b: string): number {
  const ax = chunks(a);
  const bx = chunks(b);
  const n = Math.min(ax.length, bx.length);
  for (let i = 0; i < n; i++) {
    const x = ax[i];
    const y = bx[i];
    if (x === y) continue;
    const xd = isDigits(x);
    const yd = isDigits(y);
    if (xd && yd) {
      const d = compareDigits(x, y);
      if (d !== 0) return d;
      continue;
    }
    return x < y ? -1 : 1;
  }
  if (ax.length !== bx.length) return ax.length - bx.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

function isDigits(s: string): boolean {
  const c = s.charCodeAt(0);
  return c >= 48 && c <= 57;
}

/** Compares digit strings of any length by value, then by length (leading zeros). */
function compareDigits(x: string, y: string): number {
  const xs = x.replace(/^0+(?=\d)/, '');
  const ys = y.replace(/^0+(?=\d)/, '');
  if (xs.length !== ys.length) return xs.length - ys.length;
  if (xs !== ys) return xs < ys ? -1 : 1;
  return 0;
}

function chunks(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let digit = false;
  for (const ch of s) {
    const d = ch >= '0' && ch <= '9';
    if (cur !== '' && d !== digit) {
      out.push(cur);
      cur = '';
    }
    digit = d;
    cur += ch;
  }
  if (cur !== '') out.push(cur);
  return out;
}
