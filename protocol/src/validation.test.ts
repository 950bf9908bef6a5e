import { Type } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import { isDateTime, validator } from './validation.js';

describe('isDateTime', () => {
  it.each([
    '2026-11-25T03:10:00+01:00',
    '2026-11-25T02:10:00Z',
    '2026-11-25T02:10:00.5Z',
    '2026-11-25T02:10:00.123456789-03:30',
    '2028-02-29T00:00:00Z',
    '2026-12-31T23:59:59+14:00',
  ])('accepts %s', (value) => {
    expect(isDateTime(value)).toBe(true);
  });

  it.each([
    ['no offset', '2026-11-25T03:10:00'],
    ['no seconds', '2026-11-25T03:10Z'],
    ['a date only', '2026-11-25'],
    ['a space instead of T', '2026-11-25 03:10:00Z'],
    ['a lower-case z', '2026-11-25T03:10:00z'],
    ['an offset without colon', '2026-11-25T03:10:00+0100'],
    ['30 February', '2026-02-30T00:00:00Z'],
    ['29 February in a common year', '2026-02-29T00:00:00Z'],
    ['31 April', '2026-04-31T00:00:00Z'],
    ['month 13', '2026-13-01T00:00:00Z'],
    ['day 0', '2026-11-00T00:00:00Z'],
    ['hour 24', '2026-11-25T24:00:00Z'],
    ['minute 60', '2026-11-25T23:60:00Z'],
    ['a leap second', '2026-12-31T23:59:60Z'],
    ['offset hour 25', '2026-11-25T03:10:00+25:00'],
    ['trailing text', '2026-11-25T03:10:00Zjunk'],
  ])('rejects %s', (_what, value) => {
    expect(isDateTime(value)).toBe(false);
  });
});

describe('validator', () => {
  it('returns the typed value or errors with their JSON path', () => {
    const check = validator(Type.Object({ n: Type.Integer({ minimum: 1 }) }));
    expect(check.check({ n: 2 })).toEqual({ ok: true, value: { n: 2 } });
    expect(check.check({ n: 0 })).toEqual({ ok: false, errors: ['/n: Expected integer to be greater or equal to 1'] });
    expect(check.is({ n: 2 })).toBe(true);
  });

  it('lists the allowed values of a union of literals', () => {
    const check = validator(Type.Object({ p: Type.Union([Type.Literal('high'), Type.Literal(2)]) }));
    expect(check.check({ p: 'x' })).toEqual({ ok: false, errors: ['/p: Expected one of "high", 2'] });
  });

  it('explains the closest variant of a union without discriminator', () => {
    const check = validator(Type.Union([Type.Object({ a: Type.String(), b: Type.String() }), Type.Object({ c: Type.Number() })]));
    expect(check.check({ c: 'x' })).toEqual({ ok: false, errors: ['/c: Expected number'] });
  });

  it('explains the variant named by the discriminator, also inside an array', () => {
    const item = Type.Union([
      Type.Object({ type: Type.Literal('a'), x: Type.Number() }),
      Type.Object({ type: Type.Literal('b'), y: Type.String() }),
    ]);
    const check = validator(Type.Array(item));
    expect(
      check.check([
        { type: 'a', x: 1 },
        { type: 'b', y: 2 },
      ]),
    ).toEqual({ ok: false, errors: ['/1/y: Expected string'] });
    expect(check.check([{ type: 'c' }])).toEqual({ ok: false, errors: ['/0/type: Expected one of "a", "b"'] });
  });
});
