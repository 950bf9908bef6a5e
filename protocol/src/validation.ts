import type { Static, TSchema } from '@sinclair/typebox';
import { FormatRegistry, KindGuard } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { type ValueError, ValueErrorType } from '@sinclair/typebox/errors';

// TypeBox validates formats only when they are registered; `date-time` is the only one we use.
const isoDateTime = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

/**
 * An RFC 3339 date-time with seconds and an offset. `Date.parse` alone is not enough: it rolls
 * 30 February over into March and accepts the hour 24, so the calendar date and hour are checked too.
 */
export function isDateTime(value: string): boolean {
  const match = isoDateTime.exec(value);
  if (match === null) return false;
  const year = Number(match[1]);
  const month = Number(match[2]);
  const day = Number(match[3]);
  const hour = Number(match[4]);
  const date = new Date(Date.UTC(year, month - 1, day));
  return hour <= 23 && date.getUTCMonth() === month - 1 && date.getUTCDate() === day && !Number.isNaN(Date.parse(value));
}

if (!FormatRegistry.Has('date-time')) FormatRegistry.Set('date-time', isDateTime);

/** A validation outcome: the typed value, or the first errors in words with their JSON path. */
export type Checked<T> = { ok: true; value: T } | { ok: false; errors: string[] };

/** A compiled validator for one schema: the single source of truth for both type and check. */
export interface Validator<S extends TSchema> {
  readonly schema: S;
  check(value: unknown): Checked<Static<S>>;
  is(value: unknown): value is Static<S>;
}

const MAX_ERRORS = 5;

const quote = (value: unknown): string => JSON.stringify(value);

/** The property that tells the variants of a union of objects apart (`kind`), if there is one. */
function discriminator(variants: TSchema[]): string | undefined {
  const [first] = variants;
  if (first === undefined || !KindGuard.IsObject(first)) return undefined;
  return Object.keys(first.properties).find((key) =>
    variants.every((v) => KindGuard.IsObject(v) && KindGuard.IsLiteral(v.properties[key])),
  );
}

/** The literal value a union variant requires for the discriminator. */
const literalOf = (variant: TSchema, key: string): unknown => (KindGuard.IsObject(variant) ? variant.properties[key]?.const : undefined);

/**
 * Words for one error. TypeBox reports a failed union as a bare "Expected union value"; this
 * says which value was expected instead, or explains the variant the value was meant to be
 * (chosen by its discriminator, else the one with the fewest errors).
 */
function describe(error: ValueError): string[] {
  const at = error.path || '/';
  if (error.type !== ValueErrorType.Union) return [`${at}: ${error.message}`];
  const variants: TSchema[] = error.schema.anyOf ?? [];
  if (variants.length > 0 && variants.every((v) => KindGuard.IsLiteral(v))) {
    return [`${at}: Expected one of ${variants.map((v) => quote(v.const)).join(', ')}`];
  }
  const key = discriminator(variants);
  const value = error.value;
  if (key !== undefined && typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const given = (value as Record<string, unknown>)[key];
    const index = variants.findIndex((v) => literalOf(v, key) === given);
    const branch = error.errors[index];
    if (branch === undefined) {
      const allowed = variants.map((v) => quote(literalOf(v, key))).join(', ');
      return [`${error.path}/${key}: ${given === undefined ? 'Expected required property, one of' : 'Expected one of'} ${allowed}`];
    }
    return [...branch].flatMap(describe);
  }
  const branches = error.errors.map((branch) => [...branch]);
  const best = branches.reduce((a, b) => (b.length < a.length ? b : a), branches[0] ?? []);
  // A failed union always has a failing variant; the plain message is only a safety net.
  return best.length > 0 ? best.flatMap(describe) : [`${at}: ${error.message}`];
}

/** Compiles a TypeBox schema once into a fast validator with readable error messages. */
export function validator<S extends TSchema>(schema: S): Validator<S> {
  const compiled = TypeCompiler.Compile(schema);
  return {
    schema,
    is: (value: unknown): value is Static<S> => compiled.Check(value),
    check(value: unknown): Checked<Static<S>> {
      if (compiled.Check(value)) return { ok: true, value };
      const errors: string[] = [];
      for (const error of compiled.Errors(value)) {
        for (const line of describe(error)) if (!errors.includes(line)) errors.push(line);
        if (errors.length >= MAX_ERRORS) break;
      }
      return { ok: false, errors: errors.slice(0, MAX_ERRORS) };
    },
  };
}
