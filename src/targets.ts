/**
 * Targets: the cluster the migrations will run on (contract: Targets). A target is a product
 * family and the exact version whose semantics apply; `pgd5` means the latest 5.x, `pgd5.3` pins 5.3.
 */
export type Family = 'bdr1' | 'bdr3' | 'pgd4' | 'pgd5' | 'pgd6';

export interface Target {
  /** The name the user wrote (`pgd5`, `pgd5.3`, `bdr3.6`, ...). */
  readonly name: string;
  readonly family: Family;
  readonly major: number;
  readonly minor: number;
}

interface FamilyInfo {
  major: number;
  /** Minor version that the bare family name means. */
  latest: number;
  /** Minor versions that may be pinned. */
  minors: number[];
}

const FAMILIES: Record<Family, FamilyInfo> = {
  bdr1: { major: 1, latest: 0, minors: [] },
  bdr3: { major: 3, latest: 7, minors: [6, 7] },
  pgd4: { major: 4, latest: 4, minors: [0] },
  pgd5: { major: 5, latest: 9, minors: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] },
  pgd6: { major: 6, latest: 2, minors: [0, 1, 2] },
};

/** Every target name accepted by `--target`, in order. */
export const TARGET_NAMES: readonly string[] = (Object.keys(FAMILIES) as Family[]).flatMap((f) => [
  f,
  ...FAMILIES[f].minors.map((m) => `${f}.${m}`),
]);

export const DEFAULT_TARGET = 'pgd5';

/** The target for a name, or undefined when the name is not a target. */
export function parseTarget(name: string): Target | undefined {
  const m = /^(bdr1|bdr3|pgd4|pgd5|pgd6)(?:\.(\d+))?$/.exec(name.trim().toLowerCase());
  if (!m) return undefined;
  const family = m[1] as Family;
  const info = FAMILIES[family];
  if (m[2] === undefined) return { name: family, family, major: info.major, minor: info.latest };
  const minor = Number(m[2]);
  if (!info.minors.includes(minor)) return undefined;
  return { name: `${family}.${minor}`, family, major: info.major, minor };
}

/** True when the target's version is at least major.minor. */
export function atLeast(t: Target, major: number, minor = 0): boolean {
  return t.major > major || (t.major === major && t.minor >= minor);
}

/** True when the target's version is below major.minor. */
export function below(t: Target, major: number, minor = 0): boolean {
  return !atLeast(t, major, minor);
}

/** A human name for messages: "PGD 5.9", "BDR 3.7", "BDR 1". */
export function productName(t: Target): string {
  if (t.family === 'bdr1') return 'BDR 1';
  const product = t.family.startsWith('bdr') ? 'BDR' : 'PGD';
  return `${product} ${t.major}.${t.minor}`;
}
