#!/usr/bin/env node
// Lint Cypher with Neo4j's own parser and semantic analysis (@neo4j-cypher/language-support,
// the engine behind the Neo4j VS Code extension, Browser and Workspace editors).
//
// Driven by lineage/testing/cypherlint.py. Two ways to call it:
//
//   1. JSON on stdin (what the Python side uses):
//        {"files": [{"path": "q.cypher", "text": "MATCH ...", "params": {"limit": 10}}],
//         "schema": {"labels": [...], "relationshipTypes": [...], "propertyKeys": [...],
//                    "parameters": {"name": sample}, "defaultLanguage": "CYPHER 5"},
//         "plugins": ["apoc"],            // function/procedure namespaces beyond the built-ins
//         "allowAnyParams": false,        // true: drop "Parameter $x is not defined." errors
//         "consoleCommands": false}       // true: accept Browser commands (:param x => 1;)
//      prints {"linter": {...}, "files": [{"path": ..., "diagnostics": [...]}]} and exits 0
//      (diagnostics are data, not a failure); exits 2 on bad input.
//
//   2. node lint.mjs FILE.cypher ...  (for a person): same output, any $param allowed, no
//      label/property schema; exits 1 if any diagnostic is an error.
//
// A diagnostic: {severity: "error"|"warning"|"information"|"hint", message, line, column,
// end_line, end_column (1-based; columns count UTF-16 code units), offset, end_offset
// (0-based UTF-16 offsets into the text), deprecated}.
//
// Built-in functions and procedures come from the package's own catalogue of a real Neo4j
// (testData.mockSchema: 405 functions / 701 procedures for CYPHER 5, incl. APOC and GDS).
// Only built-ins (and the db/dbms/tx/cdc procedures) are declared unless "plugins" names more
// namespaces, so apoc.* is reported as an unknown function by default.

import { readFileSync } from 'node:fs';
import { lintCypherQuery, testData } from '@neo4j-cypher/language-support';

const PKG = '@neo4j-cypher/language-support';
// The package's "exports" hide its package.json, so read it by path.
const pkgVersion = JSON.parse(
  readFileSync(new URL(`./node_modules/${PKG}/package.json`, import.meta.url), 'utf8'),
).version;

const SEVERITY = { 1: 'error', 2: 'warning', 3: 'information', 4: 'hint' };
const BUILTIN_PROCEDURE_NAMESPACES = ['db', 'dbms', 'tx', 'cdc'];

function namespaceOf(name) {
  return name.split('.')[0];
}

function catalogue(plugins) {
  const allowed = new Set(plugins);
  const functions = {};
  const procedures = {};
  for (const [version, fns] of Object.entries(testData.mockSchema.functions ?? {})) {
    functions[version] = Object.fromEntries(
      Object.entries(fns).filter(([name, fn]) => fn.isBuiltIn || allowed.has(namespaceOf(name))),
    );
  }
  for (const [version, procs] of Object.entries(testData.mockSchema.procedures ?? {})) {
    procedures[version] = Object.fromEntries(
      Object.entries(procs).filter(([name]) => {
        const ns = namespaceOf(name);
        return BUILTIN_PROCEDURE_NAMESPACES.includes(ns) || allowed.has(ns);
      }),
    );
  }
  return { functions, procedures };
}

function toDiagnostic(d) {
  return {
    severity: SEVERITY[d.severity] ?? String(d.severity),
    message: d.message,
    line: d.range.start.line + 1,
    column: d.range.start.character + 1,
    end_line: d.range.end.line + 1,
    end_column: d.range.end.character + 1,
    offset: d.offsets?.start ?? null,
    end_offset: d.offsets?.end ?? null,
    deprecated: Array.isArray(d.tags) && d.tags.includes(2),
  };
}

function isUndeclaredParam(message) {
  return message.startsWith('Parameter ') && message.endsWith(' is not defined.');
}

export function lint(request) {
  const schemaIn = request.schema ?? {};
  const { functions, procedures } = catalogue(request.plugins ?? []);
  const consoleCommandsEnabled = Boolean(request.consoleCommands);
  const files = request.files ?? [];
  if (!Array.isArray(files)) throw new Error('"files" must be a list');
  const results = files.map((file, i) => {
    if (typeof file?.text !== 'string') throw new Error(`files[${i}].text must be a string`);
    const dbSchema = {
      ...schemaIn,
      parameters: { ...(schemaIn.parameters ?? {}), ...(file.params ?? {}) },
      functions,
      procedures,
    };
    const { diagnostics } = lintCypherQuery(file.text, dbSchema, { consoleCommandsEnabled });
    const allowAny = request.allowAnyParams || file.allowAnyParams;
    return {
      path: file.path ?? `<text ${i}>`,
      diagnostics: diagnostics
        .filter((d) => !(allowAny && isUndeclaredParam(d.message)))
        .map(toDiagnostic),
    };
  });
  return { linter: { package: PKG, version: pkgVersion, node: process.version }, files: results };
}

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

async function main(argv) {
  if (argv.length > 0) {
    const files = argv.map((path) => ({ path, text: readFileSync(path, 'utf8') }));
    const out = lint({ files, allowAnyParams: true, consoleCommands: true });
    process.stdout.write(JSON.stringify(out, null, 2) + '\n');
    const anyError = out.files.some((f) => f.diagnostics.some((d) => d.severity === 'error'));
    return anyError ? 1 : 0;
  }
  let request;
  try {
    request = JSON.parse(await readStdin());
    process.stdout.write(JSON.stringify(lint(request)) + '\n');
  } catch (err) {
    process.stderr.write(`lint.mjs: ${err?.stack ?? err}\n`);
    return 2;
  }
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
