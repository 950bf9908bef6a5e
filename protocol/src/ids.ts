import { Type } from '@sinclair/typebox';

/**
 * Identifiers of sites, rooms, residents and sensors. They appear as MQTT topic levels,
 * so they are restricted to characters that are never MQTT wildcards or separators
 * (`+`, `#`, `/` are forbidden in a topic level that is not a filter — MQTT 3.1.1 §4.7).
 */
export const Id = Type.String({
  pattern: '^[a-z0-9][a-z0-9-]{0,63}$',
  description: 'lower-case letters, digits and dashes; 1–64 characters',
});

/** An instant as an ISO 8601 string with an offset or `Z`. */
export const Instant = Type.String({ format: 'date-time', maxLength: 40 });

export const Battery = Type.Integer({ minimum: 0, maximum: 100, description: 'battery level in %' });
export const LinkQuality = Type.Integer({ minimum: 0, maximum: 255, description: 'radio link quality, 0–255 (Zigbee LQI scale)' });
