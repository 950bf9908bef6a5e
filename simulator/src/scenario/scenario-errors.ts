import { KindGuard, type TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { type ValueError, ValueErrorType } from '@sinclair/typebox/errors';
import { type Document, isMap, isPair, isScalar, isSeq, type LineCounter, type Node, type Pair } from 'yaml';

/** One thing wrong with a scenario file, with where it is. */
export interface ScenarioProblem {
  /** JSON pointer of the field, e.g. /timeline/3/for; "" for the file as a whole. */
  path: string;
  message: string;
  line?: number;
  column?: number;
}

/** A scenario file that cannot be run. Its message names each problem as file:line:column: field: what. */
export class ScenarioError extends Error {
  constructor(
    readonly file: string,
    readonly problems: ScenarioProblem[],
  ) {
    super(problems.map((p) => formatProblem(file, p)).join('\n'));
    this.name = 'ScenarioError';
  }
}

export function formatProblem(file: string, problem: ScenarioProblem): string {
  const where = problem.line === undefined ? file : `${file}:${problem.line}:${problem.column ?? 1}`;
  return `${where}: ${problem.path === '' ? '' : `${problem.path}: `}${problem.message}`;
}

const MAX_PROBLEMS = 8;

/**
 * Words for schema errors. TypeBox says "Expected string to match '^…$'" and "Expected union
 * value"; a technician needs "expected a duration such as 20m" and, for a timeline item, the
 * errors of the kind of item it was meant to be (told apart by `does` or `fault`).
 */
export function schemaProblems(schema: TSchema, value: unknown, prefix = ''): ScenarioProblem[] {
  const compiled = TypeCompiler.Compile(schema);
  const problems: ScenarioProblem[] = [];
  const add = (list: ScenarioProblem[]) => {
    for (const p of list) if (!problems.some((q) => q.path === p.path && q.message === p.message)) problems.push(p);
  };
  for (const error of compiled.Errors(value)) {
    add(describe(error, prefix));
    if (problems.length >= MAX_PROBLEMS) break;
  }
  return problems.slice(0, MAX_PROBLEMS);
}

function describe(error: ValueError, prefix: string): ScenarioProblem[] {
  const path = prefix + error.path;
  const schema = error.schema;
  if (error.type === ValueErrorType.Union) {
    const variants: TSchema[] = schema.anyOf ?? [];
    if (variants.every((v) => KindGuard.IsLiteral(v))) {
      return [{ path, message: `expected one of ${variants.map((v) => JSON.stringify(v.const)).join(', ')}, got ${shown(error.value)}` }];
    }
    const key = discriminator(variants, error.value);
    if (key !== undefined) {
      const given = (error.value as Record<string, unknown>)[key];
      const index = variants.findIndex((v) => KindGuard.IsObject(v) && v.properties[key]?.const === given);
      const branch = error.errors[index];
      if (branch === undefined) {
        const allowed = variants.flatMap((v) =>
          KindGuard.IsObject(v) && v.properties[key]?.const !== undefined ? [v.properties[key]?.const] : [],
        );
        return [
          { path: `${path}/${key}`, message: `expected one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}, got ${shown(given)}` },
        ];
      }
      return [...branch].flatMap((e) => describe(e, prefix));
    }
    if (typeof schema.description === 'string') return [{ path, message: `expected ${schema.description}, got ${shown(error.value)}` }];
    const branches = error.errors.map((b) => [...b]);
    const best = branches.reduce((a, b) => (b.length < a.length ? b : a), branches[0] ?? []);
    return best.length > 0 ? best.flatMap((e) => describe(e, prefix)) : [{ path, message: error.message }];
  }
  if (error.type === ValueErrorType.ObjectAdditionalProperties) {
    return [{ path, message: `unknown field (allowed: ${Object.keys(schema.properties ?? {}).join(', ')})` }];
  }
  if (error.type === ValueErrorType.ObjectRequiredProperty) return [{ path, message: 'required field missing' }];
  if (
    (error.type === ValueErrorType.StringPattern || error.type === ValueErrorType.StringFormat || error.type === ValueErrorType.String) &&
    typeof schema.description === 'string'
  ) {
    return [{ path, message: `expected ${schema.description}, got ${shown(error.value)}` }];
  }
  return [{ path, message: `${error.message.charAt(0).toLowerCase()}${error.message.slice(1)}, got ${shown(error.value)}` }];
}

/**
 * Which field tells the variants apart for this value: the one literal field the value carries
 * (`does` or `fault` in the timeline, `format` for a sensor).
 */
function discriminator(variants: TSchema[], value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const keys = new Set<string>();
  for (const v of variants) {
    if (!KindGuard.IsObject(v)) return undefined;
    for (const [key, property] of Object.entries(v.properties)) if (KindGuard.IsLiteral(property)) keys.add(key);
  }
  const present = [...keys].filter((key) => key in value);
  if (present.length === 1) return present[0];
  // None present: name the first, so the message says what is missing.
  return present.length === 0 && keys.size > 0 ? [...keys][0] : undefined;
}

const shown = (value: unknown): string => {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}…` : text;
};

/** Where a JSON pointer lands in the YAML source: the value, else its key, else the nearest parent. */
export function locate(doc: Document, lineCounter: LineCounter, path: string): { line: number; column: number } | undefined {
  const segments = path
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  let node: Node | null | undefined = doc.contents as Node | null;
  let found: Node | null | undefined = node;
  for (const segment of segments) {
    if (isMap(node)) {
      const pair: Pair<unknown, unknown> | undefined = node.items.find(
        (item: Pair<unknown, unknown>) => isPair(item) && isScalar(item.key) && String(item.key.value) === segment,
      );
      if (pair === undefined) break;
      const key = pair.key as Node;
      const value = pair.value as Node | null;
      node = value;
      found = value ?? key;
      if (value === null) break;
    } else if (isSeq(node)) {
      const item = node.items[Number(segment)] as Node | undefined;
      if (item === undefined) break;
      node = item;
      found = item;
    } else break;
  }
  const offset = found?.range?.[0];
  if (offset === undefined) return undefined;
  const { line, col } = lineCounter.linePos(offset);
  return { line, column: col };
}
