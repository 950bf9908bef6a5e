#!/usr/bin/env node
/**
 * Generates deploy/CONFIGURATION.md from the configuration schemas themselves, so it never drifts:
 *   - the gateway configuration file: the TypeBox schema GatewayConfig, its defaults taken from what
 *     parseGatewayConfig fills into a minimal file, descriptions from the schema and the source's doc comments;
 *   - the site configuration: the TypeBox schema SiteConfig and PLAN_DEFAULTS;
 *   - the server's and the gateway's command line and environment: their own --help.
 *
 *   node deploy/scripts/config-reference.mjs           prints it
 *   node deploy/scripts/config-reference.mjs --write   writes deploy/CONFIGURATION.md
 *   node deploy/scripts/config-reference.mjs --check   exits 1 when the committed file differs
 * Needs the built workspaces (npx tsc -b gateway server).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const deployDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const repoRoot = join(deployDir, '..');
export const referencePath = join(deployDir, 'CONFIGURATION.md');

/** Doc comments of object-literal properties, keyed `ConstName.prop.prop` by where they sit in the source. */
function docComments(sourcePath) {
  const source = ts.createSourceFile(sourcePath, readFileSync(sourcePath, 'utf8'), ts.ScriptTarget.ES2022, true);
  const docs = new Map();
  const text = (node) =>
    (node.jsDoc ?? [])
      .map((doc) => (typeof doc.comment === 'string' ? doc.comment : (doc.comment ?? []).map((c) => c.text).join('')))
      .join(' ')
      .replace(/\s+/g, ' ')
      .trim();
  const visit = (node, owner) => {
    if (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name)) {
      const statement = node.parent?.parent;
      const comment = statement ? text(statement) : '';
      if (comment) docs.set(node.name.text, comment);
      owner = node.name.text;
    }
    if (owner && ts.isPropertyAssignment(node) && (ts.isIdentifier(node.name) || ts.isStringLiteral(node.name))) {
      const chain = [];
      for (let at = node; at && !ts.isVariableDeclaration(at); at = at.parent) {
        if (ts.isPropertyAssignment(at)) chain.unshift(at.name.getText(source).replace(/['"]/g, ''));
      }
      const comment = text(node);
      if (comment) docs.set(`${owner}.${chain.join('.')}`, comment);
    }
    ts.forEachChild(node, (child) => visit(child, owner));
  };
  visit(source, undefined);
  return docs;
}

const escapeCell = (s) => String(s).replace(/\|/g, '\\|').replace(/\n/g, ' ');
const code = (v) => `\`${typeof v === 'string' ? v : JSON.stringify(v)}\``;

/** A schema's type in a few words, with its limits. */
function describeType(schema) {
  if (schema.const !== undefined) return code(schema.const);
  if (schema.anyOf) return schema.anyOf.map(describeType).join(' or ');
  const limits = [];
  if (schema.minimum !== undefined && schema.maximum !== undefined) limits.push(`${schema.minimum}–${schema.maximum}`);
  else if (schema.minimum !== undefined) limits.push(`≥ ${schema.minimum}`);
  else if (schema.maximum !== undefined) limits.push(`≤ ${schema.maximum}`);
  if (schema.exclusiveMinimum !== undefined) limits.push(`> ${schema.exclusiveMinimum}`);
  if (schema.minLength !== undefined || schema.maxLength !== undefined) {
    limits.push(`length ${schema.minLength ?? 0}–${schema.maxLength ?? '∞'}`);
  }
  if (schema.pattern !== undefined) limits.push(`pattern ${code(schema.pattern)}`);
  if (schema.minItems !== undefined || schema.maxItems !== undefined)
    limits.push(`${schema.minItems ?? 0}–${schema.maxItems ?? '∞'} items`);
  if (schema.uniqueItems) limits.push('unique');
  const base =
    schema.type === 'array'
      ? `array of ${schema.items?.type === 'object' || schema.items?.anyOf ? 'objects' : describeType(schema.items)}`
      : schema.type;
  return limits.length ? `${base} (${limits.join(', ')})` : base;
}

/**
 * One row per setting, depth first. `names` maps exported schema objects to their names, so a doc
 * comment is found by where it sits in the source (`SupervisionPlan.rules.bedExit`).
 */
function rows(schema, { path, required, context, names, docs, defaults, filled }) {
  const key = context.rel.length ? `${context.name}.${context.rel.join('.')}` : context.name;
  // TypeBox's Optional() clones a schema, so exported schemas are recognised by their JSON.
  const named = names.get(JSON.stringify(schema));
  if (named !== undefined) context = { name: named, rel: [] };
  const out = [];
  const description = [...new Set([schema.description, docs.get(key), named !== undefined ? docs.get(named) : undefined])]
    .filter(Boolean)
    .join(' ');
  const defaultValue = defaults(path, schema);
  if (path !== '') {
    out.push({
      path,
      type: describeType(schema),
      required: required && !filled(path) ? 'yes' : '',
      default: defaultValue === undefined ? '' : code(defaultValue),
      description,
    });
  }
  const child = (name, sub, isRequired, display) =>
    rows(sub, {
      path: display,
      required: isRequired,
      context: { name: context.name, rel: [...context.rel, name] },
      names,
      docs,
      defaults,
      filled,
    });
  if (schema.type === 'object' && schema.properties) {
    for (const [name, sub] of Object.entries(schema.properties)) {
      out.push(...child(name, sub, (schema.required ?? []).includes(name), path ? `${path}.${name}` : name));
    }
  }
  if (schema.type === 'array' && schema.items) {
    const items = schema.items;
    if (items.type === 'object') {
      out.push(...rows(items, { path: `${path}[]`, required: false, context, names, docs, defaults, filled }).slice(1));
    } else if (items.anyOf?.every((v) => v.type === 'object')) {
      for (const variant of items.anyOf) {
        const tag = Object.entries(variant.properties).find(([, p]) => p.const !== undefined);
        const display = tag ? `${path}[] (${tag[0]} "${tag[1].const}")` : `${path}[]`;
        out.push(...rows(variant, { path: display, required: false, context, names, docs, defaults, filled }).slice(1));
      }
    }
  }
  if (schema.anyOf && path !== '') {
    for (const variant of schema.anyOf)
      if (variant.type === 'object') out.push(...rows(variant, { path, required, context, names, docs, defaults, filled }).slice(1));
  }
  return out;
}

function table(list) {
  const lines = ['| setting | type | required | default | description |', '| --- | --- | --- | --- | --- |'];
  for (const r of list) lines.push(`| ${[code(r.path), r.type, r.required, r.default, r.description].map(escapeCell).join(' | ')} |`);
  return lines.join('\n');
}

/** The value at a dotted path of a plain object; arrays and variant paths have none. */
function at(object, path) {
  if (path.includes('[]')) return undefined;
  let value = object;
  for (const part of path.split('.')) {
    if (value === null || typeof value !== 'object') return undefined;
    value = value[part];
  }
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? undefined : value;
}

const help = (script) => execFileSync(process.execPath, [join(repoRoot, script), '--help'], { encoding: 'utf8' }).trimEnd();

export async function generate() {
  const gatewayModule = await import('@nattevakt/gateway/config/gateway-config');
  const siteModule = await import('@nattevakt/protocol/site-config');
  const idsModule = await import('@nattevakt/protocol/ids');
  const namesOf = (...modules) => {
    const names = new Map();
    for (const module of modules) {
      for (const [name, value] of Object.entries(module)) {
        if (value && typeof value === 'object' && ('type' in value || 'anyOf' in value)) names.set(JSON.stringify(value), name);
      }
    }
    return names;
  };
  const minimal = gatewayModule.parseGatewayConfig({ version: gatewayModule.GATEWAY_CONFIG_VERSION, siteId: 'example-site' });
  const gatewayRows = rows(gatewayModule.GatewayConfig, {
    path: '',
    required: true,
    context: { name: 'GatewayConfig', rel: [] },
    names: namesOf(gatewayModule),
    docs: docComments(join(repoRoot, 'gateway/src/config/gateway-config.ts')),
    defaults: (path, schema) => (path === 'siteId' ? undefined : (at(minimal, path) ?? schema.default)),
    // version and siteId are what the minimal file gives: still required.
    filled: (path) =>
      !['version', 'siteId'].includes(path) &&
      !path.includes('[]') &&
      path.split('.').reduce((v, part) => (v == null ? undefined : v[part]), minimal) !== undefined,
  });
  const planDefaults = siteModule.PLAN_DEFAULTS;
  const siteRows = rows(siteModule.SiteConfig, {
    path: '',
    required: true,
    context: { name: 'SiteConfig', rel: [] },
    names: namesOf(siteModule, idsModule),
    docs: docComments(join(repoRoot, 'protocol/src/site-config.ts')),
    defaults: (path, schema) => {
      const leaf = path.split('.').at(-1);
      if (path === 'residents[].plan.bedGraceSeconds') return planDefaults.bedGraceSeconds;
      if (path === 'residents[].plan.rules.bedExit.delaySeconds') return planDefaults.bedExitDelaySeconds;
      if (path.startsWith('residents[].plan.technical.') && leaf in planDefaults && typeof planDefaults[leaf] === 'number')
        return planDefaults[leaf];
      return schema.default;
    },
    filled: () => false,
  });
  const rel = (p) => relative(repoRoot, p);
  const markdown = `# Configuration reference

<!-- Generated by deploy/scripts/config-reference.mjs from the schemas; do not edit by hand. -->

Generated by \`npm run config-reference -w deploy\` from the configuration schemas themselves, so it
cannot drift: \`deploy/test/config-reference.test.ts\` fails when this file differs from what the script
makes of the current code. Change a schema, then run the script and commit both.

- [Gateway configuration file](#gateway-configuration-file) (\`gateway.json\`, \`--config\`)
- [Gateway command line and environment](#gateway-command-line-and-environment)
- [Server command line and environment](#server-command-line-and-environment)
- [Site configuration](#site-configuration) (rooms, residents, supervision plans, sensors)

## Gateway configuration file

Schema \`GatewayConfig\` in \`${rel(join(repoRoot, 'gateway/src/config/gateway-config.ts'))}\`, version ${gatewayModule.GATEWAY_CONFIG_VERSION}. Older files are
migrated when they are loaded; unknown settings are refused with a message naming them. The
defaults are what the gateway fills into a file that gives only \`version\` and \`siteId\`.
\`NATTEVAKT_MQTT_PORT\`, \`NATTEVAKT_SERVER_URL\` and \`NATTEVAKT_GATEWAY_TOKEN\` override
\`mqtt.port\`, \`server.url\` and \`server.token\`.

${table(gatewayRows)}

## Gateway command line and environment

\`\`\`text
${help('gateway/dist/src/main.js')}
\`\`\`

## Server command line and environment

\`\`\`text
${help('server/dist/src/main.js')}
\`\`\`

## Site configuration

Schema \`SiteConfig\` in \`${rel(join(repoRoot, 'protocol/src/site-config.ts'))}\`: one site's rooms, residents with their
supervision plans, and sensors. The server keeps it (\`--seed-site FILE\`) and pushes every
revision to the site's gateway, which stores it in its state directory. Settings left out of a
plan take the defaults shown (\`PLAN_DEFAULTS\`); sensor-silent limits by risk are
${Object.entries(planDefaults.silentMinutes)
  .map(([k, v]) => `${k} ${v} min`)
  .join(', ')}.

${table(siteRows)}
`;
  return format(markdown);
}

/** Biome's markdown formatting, as \`npm run check\` expects it. */
function format(markdown) {
  return execFileSync(join(repoRoot, 'node_modules/.bin/biome'), ['format', `--stdin-file-path=${referencePath}`], {
    input: markdown,
    encoding: 'utf8',
    cwd: repoRoot,
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const text = await generate();
  if (process.argv.includes('--write')) {
    writeFileSync(referencePath, text);
    process.stderr.write(`wrote ${relative(process.cwd(), referencePath)}\n`);
  } else if (process.argv.includes('--check')) {
    const committed = readFileSync(referencePath, 'utf8');
    if (committed !== text) {
      process.stderr.write(`${referencePath} is out of date: run npm run config-reference -w deploy and commit it\n`);
      process.exit(1);
    }
  } else process.stdout.write(text);
}
