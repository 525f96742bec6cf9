/**
 * CHECK and FOREIGN KEY constraints that an ALTER TABLE validates against existing rows, and the
 * NOT VALID form of each (require-not-valid, no-validate-in-same-transaction).
 */
import { AstValue, fields, nodeType } from './ast';
import { clone } from './sqlgen';

/** A CHECK / FOREIGN KEY that PostgreSQL validates when it is added (not NOT VALID, not NOT ENFORCED). */
export function validatesOnAdd(con: AstValue): boolean {
  if (con.contype !== 'CONSTR_CHECK' && con.contype !== 'CONSTR_FOREIGN') return false;
  if (con.skip_validation) return false; // NOT VALID (and NOT ENFORCED, which implies it)
  return con.is_enforced !== false;
}

/** A CHECK / FOREIGN KEY added NOT VALID (and enforced): it will need a VALIDATE CONSTRAINT. */
export function addedNotValid(con: AstValue): boolean {
  if (con.contype !== 'CONSTR_CHECK' && con.contype !== 'CONSTR_FOREIGN') return false;
  // NOT ENFORCED also sets skip_validation; only an enforced constraint carries is_enforced.
  return !!con.skip_validation && con.is_enforced === true;
}

const ATTRS = new Set([
  'CONSTR_ATTR_DEFERRABLE',
  'CONSTR_ATTR_NOT_DEFERRABLE',
  'CONSTR_ATTR_DEFERRED',
  'CONSTR_ATTR_IMMEDIATE',
  'CONSTR_ATTR_ENFORCED',
  'CONSTR_ATTR_NOT_ENFORCED',
]);

/** A column-level constraint with the attribute nodes (DEFERRABLE, NOT ENFORCED, ...) that follow it. */
export interface ColumnConstraint {
  /** Index of the constraint node in ColumnDef.constraints. */
  index: number;
  /** Indices of the constraint and its attributes. */
  indices: number[];
  con: AstValue;
  deferrable: boolean;
  initdeferred: boolean;
  enforced: boolean;
}

/** The column's constraints, each with its trailing attribute nodes applied. */
export function columnConstraints(columnDef: AstValue): ColumnConstraint[] {
  const list: AstValue[] = columnDef.constraints ?? [];
  const out: ColumnConstraint[] = [];
  for (let i = 0; i < list.length; i++) {
    if (nodeType(list[i]) !== 'Constraint') continue;
    const con = fields(list[i]);
    if (ATTRS.has(con.contype)) continue;
    const cc: ColumnConstraint = { index: i, indices: [i], con, deferrable: !!con.deferrable, initdeferred: !!con.initdeferred, enforced: true };
    for (let j = i + 1; j < list.length; j++) {
      const a = fields(list[j]);
      if (nodeType(list[j]) !== 'Constraint' || !ATTRS.has(a.contype)) break;
      cc.indices.push(j);
      if (a.contype === 'CONSTR_ATTR_DEFERRABLE') cc.deferrable = true;
      else if (a.contype === 'CONSTR_ATTR_NOT_DEFERRABLE') cc.deferrable = false;
      else if (a.contype === 'CONSTR_ATTR_DEFERRED') cc.initdeferred = true;
      else if (a.contype === 'CONSTR_ATTR_IMMEDIATE') cc.initdeferred = false;
      else if (a.contype === 'CONSTR_ATTR_NOT_ENFORCED') cc.enforced = false;
      else if (a.contype === 'CONSTR_ATTR_ENFORCED') cc.enforced = true;
    }
    out.push(cc);
  }
  return out;
}

/** The table-level form of a column constraint, named, for `ADD CONSTRAINT <name> ...`. */
export function tableLevel(cc: ColumnConstraint, column: string, name: string): AstValue {
  const con = clone(cc.con);
  con.conname = name;
  if (con.contype === 'CONSTR_FOREIGN') con.fk_attrs = [{ String: { sval: column } }];
  if (con.contype === 'CONSTR_PRIMARY' || con.contype === 'CONSTR_UNIQUE') con.keys = [{ String: { sval: column } }];
  if (cc.deferrable) con.deferrable = true;
  if (cc.initdeferred) con.initdeferred = true;
  delete con.location;
  return con;
}

/** Marks a constraint node NOT VALID. */
export function makeNotValid(con: AstValue): void {
  con.skip_validation = true;
  delete con.initially_valid;
  con.is_enforced = true;
}
