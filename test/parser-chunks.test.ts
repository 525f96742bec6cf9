/**
 * Big files are parsed in pieces (src/parser.ts): the pieces must give exactly the statements,
 * positions, syntax errors and comments of one parse of the whole file, wherever the cuts fall.
 */
import { AstValue } from '../src/ast';
import { ParsedFile, loadParser, parseFile } from '../src/parser';
import { SourceText } from '../src/source';

beforeAll(async () => {
  await loadParser();
});

/** Statements that are hard to cut around: semicolons in strings, comments, bodies and parentheses. */
const SHAPES = [
  "INSERT INTO notes (id, body) VALUES (1, 'a;\nb;\nc');",
  '-- a comment that ends in a semicolon;\nSELECT 1;',
  'SELECT 1 -- trailing comment;\n;',
  '/* block;\n comment; */ CREATE INDEX notes_body_idx ON notes (body);',
  "DO $$\nBEGIN\n  PERFORM 1;\n  RAISE NOTICE 'é;';\nEND\n$$;",
  'CREATE FUNCTION f() RETURNS int LANGUAGE sql\nBEGIN ATOMIC\n  SELECT 1;\n  SELECT 2;\nEND;',
  'SELECT 1 +;',
  'ALTER TABLE notes ADD COLUMN tag text DEFAULT \'été 😀\';',
  'CREATE TABLE "Élève" (id int PRIMARY KEY, nom text);',
  "SELECT $tag$ ; \n ; $tag$;",
  'CREATE TABLE t2 (id int PRIMARY KEY);',
  'UPDATE notes SET body = E\'x\\\';\\n\' WHERE id = 2;',
];

function corpus(n: number): string {
  const parts: string[] = [];
  for (let i = 0; i < n; i++) parts.push(SHAPES[(i * 7) % SHAPES.length].replace(/notes/g, `notes_${i % 13}`));
  return `${parts.join('\n')}\n`;
}

/** Statements with every AST location made absolute (string index in the file), for comparison. */
function absolute(source: SourceText, parsed: ParsedFile): unknown[] {
  const fix = (v: AstValue, base: number): AstValue => {
    if (Array.isArray(v)) return v.map((x) => fix(x, base));
    if (!v || typeof v !== 'object') return v;
    const out: Record<string, AstValue> = {};
    for (const [k, x] of Object.entries(v)) out[k] = (k === 'location' || k === 'stmt_location') && typeof x === 'number' && x >= 0 ? source.indexOfByte(base + x) : fix(x, base);
    return out;
  };
  return parsed.statements.map((s) => ({ start: s.start, end: s.end, error: s.error, legacy: s.legacy, node: fix(s.node, s.byteBase) }));
}

test.each([
  ['pieces of ~300 bytes', 300],
  ['pieces of ~1 kB', 1000],
  ['pieces of ~7 kB', 7000],
])('a file parsed in %s equals the file parsed whole', (_name, chunk) => {
  const text = corpus(400);
  const source = new SourceText(text);
  const whole = parseFile(source, true);
  const pieces = parseFile(source, true, { bigFile: 1000, chunk });
  expect(whole.statements.length).toBeGreaterThan(300);
  expect(whole.statements.filter((s) => s.error).length).toBeGreaterThan(20); // SELECT 1 +;
  expect(absolute(source, pieces)).toEqual(absolute(source, whole));
  expect(pieces.comments).toEqual(whole.comments);
});

test('an unterminated quote near the end: the same syntax error either way', () => {
  const text = `${corpus(60)}SELECT 'never closed;\nSELECT 2;\n`;
  const source = new SourceText(text);
  const whole = parseFile(source, false);
  const pieces = parseFile(source, false, { bigFile: 100, chunk: 500 });
  expect(absolute(source, pieces)).toEqual(absolute(source, whole));
  expect(whole.statements[whole.statements.length - 1].error?.message).toMatch(/unterminated quoted string/);
});

test('a grammar error before an unterminated quote: the statements between are still parsed', () => {
  const text = "SELECT 1 +;\nCREATE TABLE kept (id int PRIMARY KEY);\nSELECT 1 * ;\nCREATE INDEX kept_idx ON kept (id);\nSELECT 'never closed;\nSELECT 2;\n";
  const source = new SourceText(text);
  const parsed = parseFile(source, false).statements;
  expect(parsed.map((s) => (s.error ? `error@${source.position(s.error.index).line}:${source.position(s.error.index).column}` : Object.keys(s.node!)[0]))).toEqual([
    'error@1:11',
    'CreateStmt',
    'error@3:11', // the statement alone: "syntax error at end of input", after the *
    'IndexStmt',
    'error@5:8',
  ]);
  expect(parsed[4].error?.message).toMatch(/unterminated quoted string/);
});
