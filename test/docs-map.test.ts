/**
 * The hand-written maps stay true, as the generated tables do (test/rules.test.ts): ARCHITECTURE.md's code map
 * names every file in lib/ (by name, or by a glob it states), CONTRIBUTING.md's test table names every test
 * file, neither names a file that is gone, and the code, tests and docs point only at what a reader can
 * open: files of this repository, or upstream sources (repo@commit:path:line, URLs).
 */
import * as fs from 'fs';
import * as path from 'path';

const ROOT = path.join(__dirname, '..');

/** Every file under `dir` (relative to the repository, `/`-separated), skipping `skip` folders. */
function filesUnder(dir: string, skip: string[] = []): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const e of fs.readdirSync(path.join(ROOT, rel), { withFileTypes: true })) {
      const p = `${rel}/${e.name}`;
      if (e.isDirectory()) {
        if (!skip.includes(p)) walk(p);
      } else out.push(p);
    }
  };
  walk(dir);
  return out.sort();
}

/** A glob (`*`, `?`, `**` for any folders) as an anchored regular expression. */
function globRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i];
    if (glob.startsWith('**/', i)) {
      re += '(?:.*/)?';
      i += 2;
    } else if (ch === '*') re += '[^/]*';
    else if (ch === '?') re += '[^/]';
    else re += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

const isGlob = (token: string) => /[*?]/.test(token);

/** The rows of the first Markdown table under `## <heading>`, each as its cells' backticked tokens. */
function tableTokens(file: string, heading: string): string[][][] {
  const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
  const start = text.indexOf(`\n## ${heading}\n`);
  if (start < 0) throw new Error(`${file} has no "## ${heading}" section`);
  const section = text.slice(start + 1).split(/\n## /)[0];
  return section
    .split('\n')
    .filter((l) => l.startsWith('|') && !/^\|\s*-/.test(l))
    .slice(1) // the header
    .map((l) =>
      l
        .slice(1, -1)
        .split(' | ')
        .map((cell) => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1])),
    );
}

/** ARCHITECTURE.md's code map: per row, the lib folders or files of its first cell and the names or globs of the second. */
function codeMap(): { folders: string[]; files: string[]; names: string[] }[] {
  return tableTokens('ARCHITECTURE.md', 'Code map').map(([first, ...rest]) => ({
    folders: first.filter((t) => t.startsWith('lib/') && t.endsWith('/')),
    files: first.filter((t) => t.startsWith('lib/') && t.endsWith('.ts')),
    names: rest.flat().filter((t) => /^[\w./*?-]+$/.test(t) && (/\.ts$/.test(t) || t.endsWith('/'))),
  }));
}

describe("ARCHITECTURE.md's code map", () => {
  // The rows about lib/ (imports/ and scripts/ are named by folder only).
  const rows = codeMap().filter((r) => r.folders.length > 0 || r.files.length > 0);
  const libFiles = filesUnder('lib').filter((f) => f.endsWith('.ts'));

  test('names every file in lib/, or states a glob it matches', () => {
    const named = (f: string) => {
      const dir = `${path.posix.dirname(f)}/`;
      const base = path.posix.basename(f);
      return rows.some(
        (r) => r.files.includes(f) || (r.folders.includes(dir) && r.names.some((n) => (isGlob(n) ? globRegExp(n).test(base) : n === base))),
      );
    };
    expect(libFiles.length).toBeGreaterThan(100);
    expect(libFiles.filter((f) => !named(f))).toEqual([]);
  });

  test('names no file or folder that is not there, and every glob it states matches a file', () => {
    const stale = rows.flatMap((r) => [
      ...r.files.filter((f) => !fs.existsSync(path.join(ROOT, f))),
      ...r.folders.filter((d) => !fs.existsSync(path.join(ROOT, d))),
      ...r.names.filter((n) => {
        const candidates = [n, ...r.folders.map((d) => `${d}${n}`)];
        if (isGlob(n)) return !r.folders.some((d) => libFiles.some((f) => f.startsWith(d) && globRegExp(`${d}${n}`).test(f)));
        return !candidates.some((c) => fs.existsSync(path.join(ROOT, c)));
      }),
    ]);
    expect(rows.length).toBeGreaterThan(5);
    expect(stale).toEqual([]);
  });
});

describe("CONTRIBUTING.md's test table", () => {
  const tokens = tableTokens('CONTRIBUTING.md', 'Tests').flatMap(([first]) => first.filter((t) => t.startsWith('test/')));
  const testFiles = filesUnder('test', ['test/fixtures', 'test/schemas']).filter((f) => f.endsWith('.test.ts'));

  test('names every test file (a row may name a glob)', () => {
    const listed = (f: string) => tokens.some((t) => (isGlob(t) ? globRegExp(t).test(f) : t === f));
    expect(testFiles.length).toBeGreaterThan(30);
    expect(testFiles.filter((f) => !listed(f))).toEqual([]);
  });

  test('names no test file that is not there', () => {
    expect(tokens.filter((t) => !testFiles.some((f) => (isGlob(t) ? globRegExp(t).test(f) : t === f)))).toEqual([]);
  });
});

describe('references', () => {
  // The code, the tests (but their fixtures: copied upstream text) and the docs a user reads.
  const scanned = [
    ...filesUnder('lib'),
    ...filesUnder('test', ['test/fixtures', 'test/schemas']),
    ...filesUnder('docs'),
    'README.md',
    'ARCHITECTURE.md',
    'CONTRIBUTING.md',
  ].filter((f) => /\.(ts|md)$/.test(f));
  const lines = scanned.flatMap((f) =>
    fs
      .readFileSync(path.join(ROOT, f), 'utf8')
      .split('\n')
      .map((text, i) => ({ at: `${f}:${i + 1}`, text })),
  );

  test('every lib/ or test/ file a comment or doc names exists', () => {
    const missing = lines.flatMap(({ at, text }) =>
      [...text.matchAll(/\b((?:lib|test)\/[\w./-]+\.ts)\b/g)]
        .map((m) => m[1])
        .filter((p) => !fs.existsSync(path.join(ROOT, p)))
        .map((p) => `${at}: ${p}`),
    );
    expect(lines.length).toBeGreaterThan(10000);
    expect(missing).toEqual([]);
  });

  test('nothing points at notes outside the repository: cite the upstream source instead', () => {
    const outside = [
      /shared\/research/, // the project's working notes
      /\bresearch\s+notes?\b/i,
      /\b(?:gitops|istio)-live\b/,
      /\breview\s+[A-Z]\d{1,2}\b/, // a finding id of a review
      /\((?:[A-Z]\d{1,2})(?:\/[A-Z]\d{1,2})*\)/, // a bare finding id in parentheses, as B3 or B4/D3
      /\bthe issue links\b/,
    ];
    const hits = lines.filter(({ text }) => outside.some((re) => re.test(text))).map(({ at, text }) => `${at}: ${text.trim()}`);
    expect(hits).toEqual([]);
  });
});
