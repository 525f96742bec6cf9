/** The library entry that package.json "main" names: the pipeline without the CLI. */
import * as api from '../src/index';

test('lint() through the library entry finds what the CLI finds', async () => {
  await api.loadParser();
  const result = api.lint(
    [
      { path: 'm/001.sql', rel: '001.sql', text: 'CREATE TABLE t (id int PRIMARY KEY, a int);\n', report: true },
      { path: 'm/002.sql', rel: '002.sql', text: 'CREATE TABLE nopk (a int);\nCREATE INDEX t_a ON t (a);\n', report: true },
    ],
    { target: api.parseTarget('pgd5')!, runner: api.RUNNERS.plain, includeDown: false, severities: {}, ruleOptions: {} },
  );
  const found = result.files.flatMap((f) => f.findings.map((x) => `${f.path}:${x.line} ${x.ruleId}`));
  expect(found).toEqual(['m/002.sql:1 require-primary-key', 'm/002.sql:2 require-concurrent-index']);
  expect(api.allMetas().map((m) => m.id)).toContain('syntax-error');
});
