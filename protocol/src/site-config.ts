import { type Static, Type } from '@sinclair/typebox';
import { Id } from './ids.js';
import { validator } from './validation.js';

export const Priority = Type.Union([Type.Literal('high'), Type.Literal('medium'), Type.Literal('low'), Type.Literal('technical')]);
export type Priority = Static<typeof Priority>;

const ClockTime = Type.String({ pattern: '^([01]\\d|2[0-3]):[0-5]\\d$', description: 'local wall-clock time HH:MM' });

/** The part of the day in which night rules apply, in the site's own time zone. May cross midnight. */
export const NightWindow = Type.Object({ start: ClockTime, end: ClockTime }, { additionalProperties: false });
export type NightWindow = Static<typeof NightWindow>;

/** Supervision plan (tilsynsplan) of one resident: which rules are on, with thresholds and priority. */
export const SupervisionPlan = Type.Object(
  {
    armed: Type.Boolean({ description: 'false while the plan is paused or has no legal basis; an unarmed resident raises nothing' }),
    nightWindow: NightWindow,
    rules: Type.Object(
      {
        doorOpenAtNight: Type.Object({ enabled: Type.Boolean(), priority: Priority }, { additionalProperties: false }),
        outOfBedTooLong: Type.Object(
          { enabled: Type.Boolean(), minutes: Type.Integer({ minimum: 1, maximum: 720 }), priority: Priority },
          { additionalProperties: false },
        ),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
export type SupervisionPlan = Static<typeof SupervisionPlan>;

export const SensorKind = Type.Union([Type.Literal('bed'), Type.Literal('door')]);
export type SensorKind = Static<typeof SensorKind>;

export const SiteConfig = Type.Object(
  {
    version: Type.Literal(1),
    /** Grows with every change the server makes; a gateway never goes back to an older revision. */
    revision: Type.Optional(Type.Integer({ minimum: 0 })),
    site: Type.Object(
      { id: Id, name: Type.String({ minLength: 1, maxLength: 120 }), timezone: Type.String({ minLength: 1, maxLength: 64 }) },
      { additionalProperties: false },
    ),
    rooms: Type.Array(Type.Object({ id: Id, name: Type.String({ minLength: 1, maxLength: 60 }) }, { additionalProperties: false }), {
      maxItems: 2000,
    }),
    residents: Type.Array(
      Type.Object(
        { id: Id, name: Type.String({ minLength: 1, maxLength: 120 }), roomId: Id, plan: SupervisionPlan },
        { additionalProperties: false },
      ),
      { maxItems: 2000 },
    ),
    sensors: Type.Array(
      Type.Object({ id: Id, kind: SensorKind, roomId: Id, residentId: Type.Optional(Id) }, { additionalProperties: false }),
      { maxItems: 10000 },
    ),
  },
  { additionalProperties: false },
);
export type SiteConfig = Static<typeof SiteConfig>;
export type Resident = SiteConfig['residents'][number];
export type SensorConfig = SiteConfig['sensors'][number];
export type Room = SiteConfig['rooms'][number];

const siteConfigSchema = validator(SiteConfig);

/**
 * Validates a site configuration, including the cross-references a schema cannot express:
 * every room, resident and sensor id is unique, and every reference points at something that exists.
 */
export function checkSiteConfig(value: unknown): { ok: true; value: SiteConfig } | { ok: false; errors: string[] } {
  const checked = siteConfigSchema.check(value);
  if (!checked.ok) return checked;
  const config = checked.value;
  const errors: string[] = [];
  const unique = (what: string, ids: string[]) => {
    const seen = new Set<string>();
    for (const id of ids) {
      if (seen.has(id)) errors.push(`/${what}: the id "${id}" is used twice`);
      seen.add(id);
    }
    return seen;
  };
  const rooms = unique(
    'rooms',
    config.rooms.map((r) => r.id),
  );
  const residents = unique(
    'residents',
    config.residents.map((r) => r.id),
  );
  unique(
    'sensors',
    config.sensors.map((s) => s.id),
  );
  config.residents.forEach((r, i) => {
    if (!rooms.has(r.roomId)) errors.push(`/residents/${i}/roomId: no room "${r.roomId}"`);
  });
  config.sensors.forEach((s, i) => {
    if (!rooms.has(s.roomId)) errors.push(`/sensors/${i}/roomId: no room "${s.roomId}"`);
    if (s.residentId !== undefined && !residents.has(s.residentId)) errors.push(`/sensors/${i}/residentId: no resident "${s.residentId}"`);
  });
  try {
    new Intl.DateTimeFormat('en', { timeZone: config.site.timezone });
  } catch {
    errors.push(`/site/timezone: "${config.site.timezone}" is not an IANA time zone (for example Europe/Oslo)`);
  }
  return errors.length ? { ok: false, errors } : { ok: true, value: config };
}
