import { type Static, Type } from '@sinclair/typebox';
import { Id } from './ids.js';
import { validator } from './validation.js';

export const Priority = Type.Union([Type.Literal('high'), Type.Literal('medium'), Type.Literal('low'), Type.Literal('technical')]);
export type Priority = Static<typeof Priority>;

/** The priority of a care rule's alarm. Technical alarms always have the priority `technical`. */
export const CarePriority = Type.Union([Type.Literal('high'), Type.Literal('medium'), Type.Literal('low')]);
export type CarePriority = Static<typeof CarePriority>;

/** A local wall-clock time `HH:MM` (00:00–23:59), read in the site's time zone. */
export const ClockTime = Type.String({ pattern: '^([01]\\d|2[0-3]):[0-5]\\d$', description: 'local wall-clock time HH:MM' });

/** The part of the day in which night rules apply, in the site's own time zone. May cross midnight. */
export const NightWindow = Type.Object({ start: ClockTime, end: ClockTime }, { additionalProperties: false });
export type NightWindow = Static<typeof NightWindow>;

/**
 * Defaults of the optional plan settings. A setting left out of a plan takes the value here, so
 * that plans stored before the setting existed keep working. Part 3 of the protocol README
 * describes what each one does.
 */
export const PLAN_DEFAULTS = {
  /** An unload of the bed mat shorter than this is turning over or sitting up, not leaving the bed. */
  bedGraceSeconds: 30,
  /** bed-exit raises this long after the resident left the bed (never before the grace has passed). */
  bedExitDelaySeconds: 0,
  /** A battery at or below this percentage raises low-battery. */
  lowBatteryPercent: 15,
  /** low-battery clears only when the battery reports at or above this percentage (hysteresis). */
  batteryClearPercent: 25,
  /** More state changes than this within one minute raise flapping. */
  flappingChangesPerMinute: 10,
  /** sensor-silent limits by the resident's risk (see `technical.silentMinutes`). */
  silentMinutes: {
    /** The door sensor of an armed resident with doorOpenAtNight or doorLeftOpen on: a wanderer's door is checked within minutes. */
    wanderingDoor: 15,
    /** The bed mat of an armed resident with bedExit, outOfBedTooLong or notInBedBy on: fall risk. */
    fallRiskBed: 60,
    /** Every other sensor. */
    other: 180,
  },
} as const;

/** Technical thresholds of the sensors that watch a resident. Every field is optional; see PLAN_DEFAULTS. */
export const TechnicalSettings = Type.Object(
  {
    /**
     * sensor-silent: no message from a sensor for this many minutes. Native sensors send a
     * heartbeat at least every 10 minutes; Zigbee2MQTT only marks a battery sensor offline after
     * 25 hours, so this is how a dead sensor is caught in time. Default by risk: 15 for the door
     * sensor of an armed resident with doorOpenAtNight or doorLeftOpen on, 60 for the bed mat of
     * an armed resident with bedExit, outOfBedTooLong or notInBedBy on, 180 otherwise. Zigbee
     * sensors that report less often than every 15 minutes need a longer limit here.
     */
    silentMinutes: Type.Optional(Type.Integer({ minimum: 1, maximum: 1500 })),
    /** low-battery is raised at or below this percentage. Default 15. */
    lowBatteryPercent: Type.Optional(Type.Integer({ minimum: 1, maximum: 99 })),
    /** low-battery clears at or above this percentage; must be above lowBatteryPercent. Default 25. */
    batteryClearPercent: Type.Optional(Type.Integer({ minimum: 2, maximum: 100 })),
    /** flapping is raised when a sensor changes state more than this many times within one minute. Default 10. */
    flappingChangesPerMinute: Type.Optional(Type.Integer({ minimum: 2, maximum: 60 })),
  },
  { additionalProperties: false },
);
export type TechnicalSettings = Static<typeof TechnicalSettings>;

/**
 * Supervision plan (tilsynsplan) of one resident: which rules are on, with thresholds and priority.
 * Every field added after version 1 of the plan is optional: absent means the rule is off, or the
 * setting takes its default (PLAN_DEFAULTS), so configurations stored on gateways stay valid.
 */
export const SupervisionPlan = Type.Object(
  {
    armed: Type.Boolean({ description: 'false while the plan is paused or has no legal basis; an unarmed resident raises nothing' }),
    nightWindow: NightWindow,
    rules: Type.Object(
      {
        /** The door opened inside the night window: residents who wander. */
        doorOpenAtNight: Type.Object({ enabled: Type.Boolean(), priority: Priority }, { additionalProperties: false }),
        /** Out of bed for `minutes` counted inside the night window: residents at fall risk. */
        outOfBedTooLong: Type.Object(
          { enabled: Type.Boolean(), minutes: Type.Integer({ minimum: 1, maximum: 720 }), priority: Priority },
          { additionalProperties: false },
        ),
        /** Left the bed inside the night window: residents at fall risk. Absent = off. `delaySeconds` defaults to 0. */
        bedExit: Type.Optional(
          Type.Object(
            { enabled: Type.Boolean(), delaySeconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 600 })), priority: CarePriority },
            { additionalProperties: false },
          ),
        ),
        /** The door open for `minutes` counted inside the night window. Absent = off. */
        doorLeftOpen: Type.Optional(
          Type.Object(
            { enabled: Type.Boolean(), minutes: Type.Integer({ minimum: 1, maximum: 720 }), priority: CarePriority },
            { additionalProperties: false },
          ),
        ),
        /** Not in bed at the local time `time` (HH:MM), checked once a day. Absent = off. */
        notInBedBy: Type.Optional(
          Type.Object({ enabled: Type.Boolean(), time: ClockTime, priority: CarePriority }, { additionalProperties: false }),
        ),
      },
      { additionalProperties: false },
    ),
    /**
     * How long the bed mat must stay unloaded before the resident counts as out of bed, in
     * seconds (0–300, default 30). Turning over or sitting up on the edge unloads a mat for a few
     * seconds; that must not raise an alarm. Once an unload lasts this long, out-of-bed time counts
     * from its start.
     */
    bedGraceSeconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 300 })),
    /** Thresholds of the technical alarms on this resident's sensors. Absent = the defaults. */
    technical: Type.Optional(TechnicalSettings),
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
  config.residents.forEach((r, i) => {
    const low = r.plan.technical?.lowBatteryPercent ?? PLAN_DEFAULTS.lowBatteryPercent;
    const clear = r.plan.technical?.batteryClearPercent ?? PLAN_DEFAULTS.batteryClearPercent;
    if (clear <= low)
      errors.push(`/residents/${i}/plan/technical: batteryClearPercent (${clear}) must be above lowBatteryPercent (${low})`);
  });
  try {
    new Intl.DateTimeFormat('en', { timeZone: config.site.timezone });
  } catch {
    errors.push(`/site/timezone: "${config.site.timezone}" is not an IANA time zone (for example Europe/Oslo)`);
  }
  return errors.length ? { ok: false, errors } : { ok: true, value: config };
}
