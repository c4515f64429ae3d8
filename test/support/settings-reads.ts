/**
 * The fields of the settings no code reads (test/settings.test.ts): a cluster.yaml setting that is accepted,
 * documented and ignored. The TypeScript checker resolves every property read in lib/ (a property access, an
 * element access by a literal key, a destructuring) to the property it reads; a field of `ClusterSettings`
 * (lib/load/settings-types.ts `ClusterSettingsSpec`, nested fields included, and the fields lib/load/settings.ts
 * adds) that no read outside lib/load/settings.ts resolves to is unread.
 *
 * Limits: a read counts wherever it is, even one whose value changes nothing (dead code, a read only quoted in
 * a message). A whole-object use (a spread, Object.keys, JSON.stringify) or a computed key reads no field, so
 * code that consumes settings only that way must name the fields. The program is built without imports/ and
 * node_modules (generated CRD classes and libraries never hold a setting; parsing them would double the time),
 * so a setting read only inside a callback whose parameter type comes from a library would look unread: type
 * that parameter.
 */
import * as fs from 'fs';
import * as path from 'path';

import * as ts from 'typescript';

const ROOT = path.join(__dirname, '..', '..');
const LIB = path.join(ROOT, 'lib');
const TYPES = path.join(LIB, 'load', 'settings-types.ts');
const SETTINGS = path.join(LIB, 'load', 'settings.ts');

function tsFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? tsFiles(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []));
}

function program(): ts.Program {
  const options: ts.CompilerOptions = {
    strict: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.CommonJS,
    moduleResolution: ts.ModuleResolutionKind.Node10,
    resolveJsonModule: true,
    esModuleInterop: true,
    skipLibCheck: true,
    noEmit: true,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const read = host.getSourceFile.bind(host);
  const defaultLib = path.dirname(ts.getDefaultLibFilePath(options));
  const skipped = (file: string) =>
    file.startsWith(path.join(ROOT, 'imports') + path.sep) ||
    (file.includes(`${path.sep}node_modules${path.sep}`) && !file.startsWith(defaultLib));
  host.getSourceFile = (file, version, ...rest) =>
    skipped(file) ? ts.createSourceFile(file, 'export {};', version) : read(file, version, ...rest);
  return ts.createProgram(tsFiles(LIB), options, host);
}

/** `eastWestGateway.service.type`, `verify[].from.container`: where a field sits in ClusterSettings. */
function fieldPath(field: ts.PropertySignature): string {
  const parts: string[] = [];
  let list = false;
  for (let n: ts.Node = field; !ts.isSourceFile(n); n = n.parent) {
    if (ts.isArrayTypeNode(n)) list = true;
    if (!ts.isPropertySignature(n)) continue;
    parts.unshift(n.name.getText() + (list ? '[]' : ''));
    list = false;
  }
  return parts.join('.');
}

function propertySignatures(node: ts.Node): ts.PropertySignature[] {
  const out: ts.PropertySignature[] = [];
  const visit = (n: ts.Node) => {
    if (ts.isPropertySignature(n)) out.push(n);
    ts.forEachChild(n, visit);
  };
  visit(node);
  return out;
}

/** The fields of ClusterSettings: those of the generated spec type but those settings.ts overrides, and those. */
function settingsFields(p: ts.Program): ts.PropertySignature[] {
  const spec = p.getSourceFile(TYPES)!.statements.find((s) => ts.isInterfaceDeclaration(s) && s.name.text === 'ClusterSettingsSpec')!;
  const alias = p
    .getSourceFile(SETTINGS)!
    .statements.find((s): s is ts.TypeAliasDeclaration => ts.isTypeAliasDeclaration(s) && s.name.text === 'ClusterSettings')!;
  const added = propertySignatures(alias).filter((s) => ts.isTypeLiteralNode(s.parent) && s.parent.parent === alias.type);
  const overridden = new Set(added.map((s) => s.name.getText()));
  const own = propertySignatures(spec).filter((s) => s.parent !== spec || !overridden.has(s.name.getText()));
  return [...own, ...added];
}

/** The declarations a read in `file` resolves to, for the property names in `names`. */
function readsIn(file: ts.SourceFile, checker: ts.TypeChecker, names: Set<string>, into: Set<ts.Declaration>): void {
  const resolve = (sym: ts.Symbol | undefined) => {
    for (const root of sym ? checker.getRootSymbols(sym) : []) for (const d of root.declarations ?? []) into.add(d);
  };
  const visit = (n: ts.Node) => {
    if (ts.isPropertyAccessExpression(n) && names.has(n.name.text)) resolve(checker.getSymbolAtLocation(n.name));
    else if (ts.isElementAccessExpression(n) && ts.isStringLiteral(n.argumentExpression) && names.has(n.argumentExpression.text))
      resolve(checker.getSymbolAtLocation(n.argumentExpression));
    else if (ts.isBindingElement(n) && ts.isObjectBindingPattern(n.parent)) {
      const name = (n.propertyName ?? n.name).getText();
      if (names.has(name)) resolve(checker.getTypeAtLocation(n.parent).getProperty(name));
    }
    ts.forEachChild(n, visit);
  };
  visit(file);
}

/** The paths of the settings' fields, and of those that nothing in lib/ outside lib/load/settings.ts reads. */
export function settingsReads(): { fields: string[]; unread: string[] } {
  const p = program();
  const checker = p.getTypeChecker();
  const fields = settingsFields(p);
  const names = new Set(fields.map((f) => f.name.getText()));
  const reads = new Set<ts.Declaration>();
  for (const file of p.getSourceFiles()) {
    if (!file.fileName.startsWith(LIB + path.sep) || file.fileName === SETTINGS || file.fileName === TYPES) continue;
    readsIn(file, checker, names, reads);
  }
  return { fields: fields.map(fieldPath), unread: fields.filter((f) => !reads.has(f)).map(fieldPath) };
}
