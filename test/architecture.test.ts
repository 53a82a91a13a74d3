// The shape of the code base itself: no import circle in src/ or components/, and no test code in
// the build that ships. Both read the TypeScript sources (no build needed).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Every .ts/.tsx file under `dir` (declaration files aside), relative to the root. */
function sourcesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.tsx?$/.test(name) && !name.endsWith('.d.ts')) out.push(relative(ROOT, p));
    }
  };
  walk(join(ROOT, dir));
  return out.sort();
}

/** The project files a file imports: static imports, re-exports and dynamic `import()` alike, and
 * type-only ones too. A type-only import is erased from the JavaScript, so it cannot cause a
 * load-order bug, but a circle through one still means two modules that cannot be understood (or
 * moved, or tested) one without the other: the house's layering is about both. */
function importsOf(file: string): string[] {
  const sf = ts.createSourceFile(file, readFileSync(join(ROOT, file), 'utf8'), ts.ScriptTarget.Latest, true);
  const specs: string[] = [];
  const visit = (n: ts.Node): void => {
    if ((ts.isImportDeclaration(n) || ts.isExportDeclaration(n)) && n.moduleSpecifier && ts.isStringLiteral(n.moduleSpecifier)) specs.push(n.moduleSpecifier.text);
    else if (ts.isCallExpression(n) && n.expression.kind === ts.SyntaxKind.ImportKeyword && n.arguments[0] && ts.isStringLiteralLike(n.arguments[0])) specs.push(n.arguments[0].text);
    else if (ts.isImportTypeNode(n) && ts.isLiteralTypeNode(n.argument) && ts.isStringLiteral(n.argument.literal)) specs.push(n.argument.literal.text);
    ts.forEachChild(n, visit);
  };
  visit(sf);
  const out: string[] = [];
  for (const spec of specs) {
    if (!spec.startsWith('.')) continue;
    const base = resolve(ROOT, dirname(file), spec).replace(/\.js$/, '');
    const hit = ['.ts', '.tsx', '/index.ts'].map((ext) => base + ext).find((p) => existsSync(p));
    if (hit) out.push(relative(ROOT, hit));
  }
  return out;
}

/** Strongly connected components with more than one file (or a file importing itself): the circles. */
export function importCircles(files: string[]): string[][] {
  const graph = new Map(files.map((f) => [f, importsOf(f).filter((t) => files.includes(t))]));
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const circles: string[][] = [];
  const connect = (v: string): void => {
    index.set(v, next);
    low.set(v, next);
    next++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v)!) {
      if (!index.has(w)) {
        connect(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || graph.get(v)!.includes(v)) circles.push(scc.sort());
    }
  };
  for (const f of files) if (!index.has(f)) connect(f);
  return circles.sort((a, b) => (a[0]! < b[0]! ? -1 : 1));
}

/** Circles known and accepted for now (none): a circle listed here that is gone fails the test. */
const KNOWN_CIRCLES: string[][] = [];

describe('architecture', () => {
  it('has no import circle in src/ or components/', () => {
    const files = [...sourcesUnder('src'), ...sourcesUnder('components')];
    expect(files.length).toBeGreaterThan(50);
    const circles = importCircles(files);
    const known = (c: string[]) => KNOWN_CIRCLES.some((k) => k.join(' ') === c.join(' '));
    expect(circles.filter((c) => !known(c)), 'import circles (a -> ... -> a); break them with a leaf module').toEqual([]);
    // A known circle that is gone must leave the exception list.
    for (const k of KNOWN_CIRCLES) expect(circles.map((c) => c.join(' ')), `the circle ${k.join(' <-> ')} is gone: remove it from KNOWN_CIRCLES`).toContain(k.join(' '));
  });

  it('finds a circle, including one through a type-only import', () => {
    // The walk itself: a imports b, b imports a back for a type (a circle); c imports a (a chain).
    const dir = 'test/fixtures/circles';
    expect(importCircles([`${dir}/a.ts`, `${dir}/b.ts`, `${dir}/c.ts`])).toEqual([[`${dir}/a.ts`, `${dir}/b.ts`]]);
  });

  it('keeps test code and benchmarks out of the build that ships (tsconfig.json)', () => {
    const configPath = join(ROOT, 'tsconfig.json');
    const read = ts.readConfigFile(configPath, (p) => ts.sys.readFile(p));
    expect(read.error).toBeUndefined();
    const parsed = ts.parseJsonConfigFileContent(read.config, ts.sys, ROOT);
    const program = ts.createProgram({ rootNames: parsed.fileNames, options: { ...parsed.options, noEmit: true } });
    const compiled = program
      .getSourceFiles()
      .map((sf) => relative(ROOT, sf.fileName))
      .filter((f) => !f.startsWith('node_modules') && !f.startsWith('..'));
    expect(compiled.some((f) => f.startsWith('src/'))).toBe(true);
    expect(compiled.filter((f) => /^(test|bench)\//.test(f))).toEqual([]);
  });
});
