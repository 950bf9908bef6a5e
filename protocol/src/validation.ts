import type { Static, TSchema } from '@sinclair/typebox';
import { FormatRegistry } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';

// TypeBox validates formats only when they are registered; `date-time` is the only one we use.
const isoDateTime = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
if (!FormatRegistry.Has('date-time')) {
  FormatRegistry.Set('date-time', (value) => isoDateTime.test(value) && !Number.isNaN(Date.parse(value)));
}

/** A validation outcome: the typed value, or the first errors in words with their JSON path. */
export type Checked<T> = { ok: true; value: T } | { ok: false; errors: string[] };

/** A compiled validator for one schema: the single source of truth for both type and check. */
export interface Validator<S extends TSchema> {
  readonly schema: S;
  check(value: unknown): Checked<Static<S>>;
  is(value: unknown): value is Static<S>;
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
        errors.push(`${error.path || '/'}: ${error.message}`);
        if (errors.length >= 5) break;
      }
      return { ok: false, errors };
    },
  };
}
