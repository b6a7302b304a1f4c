// ESLint rule `sentinel/allowed-imports`: every import must be on the allowlist of the layer
// the file lives in (the Signal Desktop habit, turned round from a denylist). A denylist
// lets `contract/` import `zlib`, `https` or `pino` unnoticed; an allowlist makes every new
// package or Node built-in a visible decision in eslint.config.js.
//
// Options (one object, given per layer in eslint.config.js):
//   layer      name shown in messages, e.g. "contract/"
//   node       true: Node built-ins (`node:*`, bare `fs`...) are allowed
//   packages   npm packages the layer may import (exact names; scoped as "@scope/name")
//   typePackages  packages allowed for `import type` only (no runtime code)
//   layers     repository folders a relative import may reach ("contract", "common", "common/node")
//
// ESLint's own `no-restricted-imports` only denies; it cannot say "anything not listed".
import { builtinModules } from 'node:module';
import { dirname, relative, resolve, sep } from 'node:path';

const BUILTINS = new Set(builtinModules.filter((m) => !m.startsWith('_')));
const REPO_ROOT = resolve(dirname(new URL(import.meta.url).pathname), '..', '..');

function packageName(spec) {
  const parts = spec.split('/');
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/** The repository-relative folder path of an import target, with '/' separators. */
function targetPath(fromFile, spec) {
  return relative(REPO_ROOT, resolve(dirname(fromFile), spec))
    .split(sep)
    .join('/');
}

function layerAllows(layers, target) {
  // The longest matching allowed prefix wins, so "common" does not admit "common/node".
  return (
    layers.some((l) => target === l || target.startsWith(`${l}/`)) && !(target.startsWith('common/node') && !layers.includes('common/node'))
  );
}

export const allowedImports = {
  meta: {
    type: 'problem',
    docs: { description: 'every import must be on the allowlist of the layer the file lives in' },
    schema: [
      {
        type: 'object',
        properties: {
          layer: { type: 'string' },
          node: { type: 'boolean' },
          packages: { type: 'array', items: { type: 'string' } },
          typePackages: { type: 'array', items: { type: 'string' } },
          layers: { type: 'array', items: { type: 'string' } },
        },
        required: ['layer', 'layers'],
        additionalProperties: false,
      },
    ],
  },
  create(context) {
    const opt = context.options[0];
    const packages = new Set(opt.packages ?? []);
    const typePackages = new Set(opt.typePackages ?? []);
    const where = `eslint.config.js, layer ${opt.layer}`;

    function check(node, spec, typeOnly) {
      if (typeof spec !== 'string') return;
      if (spec.startsWith('.') || spec.startsWith('/')) {
        const target = targetPath(context.filename, spec);
        if (target.startsWith('..')) return; // outside the repository (cannot happen in the tree)
        if (!layerAllows(opt.layers, target)) {
          context.report({
            node,
            message: `${opt.layer} may not import ${target}: the layers it may reach are ${opt.layers.join(', ')} (${where}). The direction is renderer -> contract <- core -> analytics, with common/ below all.`,
          });
        }
        return;
      }
      const bare = spec.startsWith('node:') ? spec.slice(5) : spec;
      if (spec.startsWith('node:') || BUILTINS.has(packageName(bare))) {
        if (!opt.node) context.report({ node, message: `${opt.layer} runs outside Node: "${spec}" is not allowed (${where})` });
        return;
      }
      const name = packageName(spec);
      if (packages.has(name) || (typeOnly && typePackages.has(name))) return;
      const how = typePackages.has(name) ? ' at run time (it is allowed for `import type` only)' : '';
      context.report({
        node,
        message: `"${name}" is not on the allowlist of ${opt.layer}${how}: add it to that layer's packages in eslint.config.js if ${opt.layer} may really depend on it`,
      });
    }

    return {
      ImportDeclaration(node) {
        const typeOnly =
          node.importKind === 'type' || (node.specifiers.length > 0 && node.specifiers.every((s) => s.importKind === 'type'));
        check(node, node.source.value, typeOnly);
      },
      ExportNamedDeclaration(node) {
        if (node.source) check(node, node.source.value, node.exportKind === 'type');
      },
      ExportAllDeclaration(node) {
        check(node, node.source.value, node.exportKind === 'type');
      },
      ImportExpression(node) {
        if (node.source.type === 'Literal') check(node, node.source.value, false);
      },
      TSImportType(node) {
        const lit = node.argument?.literal ?? node.argument;
        if (lit?.type === 'Literal') check(node, lit.value, true);
      },
      CallExpression(node) {
        if (node.callee.type === 'Identifier' && node.callee.name === 'require' && node.arguments[0]?.type === 'Literal')
          check(node, node.arguments[0].value, false);
      },
    };
  },
};

export default { rules: { 'allowed-imports': allowedImports } };
