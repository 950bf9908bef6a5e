import { createHash } from 'node:crypto';

/**
 * A resident's alarms as an HL7 FHIR R4 Bundle (type `collection`) for the patient journal, in
 * the style of the Norwegian welfare-technology hub (Velferdsteknologisk knutepunkt, VKP): each
 * alarm is a DetectedIssue, the nurses' actions (acknowledged, resolved with an outcome) are its
 * `mitigation`, and the resident, sensors and nurses are Patient, Device and Practitioner entries
 * the issues refer to by `urn:uuid:` full URLs, so every reference resolves inside the Bundle.
 *
 * Not claimed: conformance to the VKP profiles (no `meta.profile`). Their alert codes
 * (`vkp-alert-code`) for bed and door events could not be checked, so codes come from our own
 * code systems below; a journal integration maps them. The resident is identified by our id only:
 * we do not store national identity numbers.
 */

/** Our code systems (URNs: they name, they do not resolve). */
export const FHIR_SYSTEMS = {
  rule: 'urn:nattevakt:fhir:alarm-rule',
  action: 'urn:nattevakt:fhir:alarm-action',
  outcome: 'urn:nattevakt:fhir:alarm-outcome',
  alarm: 'urn:nattevakt:alarm',
  resident: 'urn:nattevakt:resident',
  sensor: 'urn:nattevakt:sensor',
} as const;

export interface FhirAlarm {
  id: string;
  siteId: string;
  sensorId: string;
  rule: string;
  priority: string;
  raisedAt: string;
  status: string;
  explanation: { nb: { title: string; detail: string }; en: { title: string; detail: string } } | null;
  acknowledgedAt: string | null;
  acknowledgedBy: string | null;
  resolvedAt: string | null;
  resolvedBy: string | null;
  outcome: string | null;
  note: string | null;
}

type Reference = { reference: string; display?: string };
type Coding = { system: string; code: string; display?: string };
type CodeableConcept = { coding?: Coding[]; text?: string };
export type FhirResource = { resourceType: string; id?: string; [key: string]: unknown };
export interface FhirBundle {
  resourceType: 'Bundle';
  type: 'collection';
  timestamp: string;
  entry: { fullUrl: string; resource: FhirResource }[];
}

const RULES: Record<string, { nb: string; en: string }> = {
  'bed-exit': { nb: 'Forlot sengen', en: 'Left the bed' },
  'out-of-bed-too-long': { nb: 'Lenge ute av sengen', en: 'Out of bed too long' },
  'door-open-at-night': { nb: 'Dør åpnet om natten', en: 'Door opened at night' },
  'door-left-open': { nb: 'Døren står åpen', en: 'Door left open' },
  'not-in-bed-by': { nb: 'Ikke i seng', en: 'Not in bed' },
  'sensor-silent': { nb: 'Sensoren har ikke meldt seg', en: 'Sensor silent' },
  'sensor-offline': { nb: 'Sensor frakoblet', en: 'Sensor offline' },
  'low-battery': { nb: 'Lavt batteri', en: 'Low battery' },
  tamper: { nb: 'Sensoren er åpnet eller flyttet', en: 'Sensor opened or moved' },
  flapping: { nb: 'Ustabil sensor', en: 'Unstable sensor' },
};

const OUTCOMES: Record<string, { nb: string; en: string }> = {
  assisted: { nb: 'Beboeren fikk hjelp', en: 'Resident assisted' },
  'back-by-themselves': { nb: 'Beboeren kom tilbake selv', en: 'Resident returned by themselves' },
  'false-alarm': { nb: 'Falsk alarm', en: 'False alarm' },
  other: { nb: 'Annet', en: 'Other' },
};

/** DetectedIssue.severity (R4 value set detectedissue-severity): high | moderate | low. Technical alarms carry none. */
const SEVERITY: Record<string, string> = { high: 'high', medium: 'moderate', low: 'low' };

/** A stable UUID from a name (SHA-256, formatted as a version-5-style UUID), so exports of the same data are identical. */
export function nameUuid(name: string): string {
  const h = createHash('sha256').update(name).digest('hex');
  const variant = ((Number.parseInt(h.charAt(16), 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** A FHIR id ([A-Za-z0-9-.]{1,64}): the value when it is one, else a UUID derived from it. */
const fhirId = (value: string) => (/^[A-Za-z0-9\-.]{1,64}$/.test(value) ? value : nameUuid(value));

export function alarmBundle(input: {
  siteId: string;
  resident: { id: string; name: string };
  sensors: { id: string; kind: string }[];
  alarms: FhirAlarm[];
  now: number;
}): FhirBundle {
  const { siteId, resident } = input;
  const entries: FhirBundle['entry'] = [];
  const patientUrl = `urn:uuid:${nameUuid(`patient:${siteId}:${resident.id}`)}`;
  entries.push({
    fullUrl: patientUrl,
    resource: {
      resourceType: 'Patient',
      id: fhirId(resident.id),
      identifier: [{ system: `${FHIR_SYSTEMS.resident}:${siteId}`, value: resident.id }],
      name: [{ text: resident.name }],
    },
  });
  const deviceUrls = new Map<string, string>();
  const device = (sensorId: string): Reference => {
    let url = deviceUrls.get(sensorId);
    if (url === undefined) {
      url = `urn:uuid:${nameUuid(`device:${siteId}:${sensorId}`)}`;
      deviceUrls.set(sensorId, url);
      const kind = input.sensors.find((s) => s.id === sensorId)?.kind;
      entries.push({
        fullUrl: url,
        resource: {
          resourceType: 'Device',
          id: fhirId(sensorId),
          identifier: [{ system: `${FHIR_SYSTEMS.sensor}:${siteId}`, value: sensorId }],
          status: 'active',
          deviceName: [{ name: sensorId, type: 'user-friendly-name' }],
          type: { text: kind === 'bed' ? 'Sengematte' : kind === 'door' ? 'Dørsensor' : 'Sensor' },
        },
      });
    }
    return { reference: url };
  };
  const practitionerUrls = new Map<string, string>();
  const practitioner = (name: string): Reference => {
    let url = practitionerUrls.get(name);
    if (url === undefined) {
      url = `urn:uuid:${nameUuid(`practitioner:${siteId}:${name}`)}`;
      practitionerUrls.set(name, url);
      entries.push({ fullUrl: url, resource: { resourceType: 'Practitioner', name: [{ text: name }] } });
    }
    return { reference: url, display: name };
  };

  for (const alarm of input.alarms) {
    const rule = RULES[alarm.rule] ?? { nb: alarm.rule, en: alarm.rule };
    const mitigation: { action: CodeableConcept; date?: string; author?: Reference }[] = [];
    if (alarm.acknowledgedAt !== null)
      mitigation.push({
        action: {
          coding: [{ system: FHIR_SYSTEMS.action, code: 'acknowledged', display: 'Acknowledged: going to the resident' }],
          text: 'Kvittert: går til beboeren',
        },
        date: alarm.acknowledgedAt,
        ...(alarm.acknowledgedBy ? { author: practitioner(alarm.acknowledgedBy) } : {}),
      });
    if (alarm.resolvedAt !== null && alarm.outcome !== null) {
      const outcome = OUTCOMES[alarm.outcome] ?? { nb: alarm.outcome, en: alarm.outcome };
      mitigation.push({
        action: {
          coding: [{ system: FHIR_SYSTEMS.outcome, code: alarm.outcome, display: outcome.en }],
          text: alarm.note ? `${outcome.nb}: ${alarm.note}` : outcome.nb,
        },
        date: alarm.resolvedAt,
        ...(alarm.resolvedBy ? { author: practitioner(alarm.resolvedBy) } : {}),
      });
    }
    const severity = SEVERITY[alarm.priority];
    const issue: FhirResource = {
      resourceType: 'DetectedIssue',
      id: fhirId(alarm.id),
      identifier: [{ system: FHIR_SYSTEMS.alarm, value: alarm.id }],
      // ObservationStatus: a closed alarm is final; one still open may change.
      status: alarm.status === 'resolved' ? 'final' : 'preliminary',
      code: { coding: [{ system: FHIR_SYSTEMS.rule, code: alarm.rule, display: rule.en }], text: alarm.explanation?.nb.title ?? rule.nb },
      ...(severity ? { severity } : {}),
      patient: { reference: patientUrl, display: resident.name },
      identifiedDateTime: alarm.raisedAt,
      author: device(alarm.sensorId),
      ...(alarm.explanation ? { detail: alarm.explanation.nb.detail } : {}),
      ...(mitigation.length > 0 ? { mitigation } : {}),
    };
    entries.push({ fullUrl: `urn:uuid:${nameUuid(`alarm:${alarm.id}`)}`, resource: issue });
  }
  return { resourceType: 'Bundle', type: 'collection', timestamp: new Date(input.now).toISOString(), entry: entries };
}
