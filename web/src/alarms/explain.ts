import type { Alarm, RuleId } from '@nattevakt/protocol/alarm';
import type { TFunction } from 'i18next';

/** The server's words for the alarm (the protocol's explainer, nb and en, kept with the alarm). */
const serverWords = (alarm: Alarm, lang: string) => alarm.explanation?.[lang.startsWith('en') ? 'en' : 'nb'] ?? null;

/** i18n key of each rule, under `rule.` and `explain.`. */
const RULE_KEYS = {
  'bed-exit': 'bedExit',
  'out-of-bed-too-long': 'outOfBedTooLong',
  'door-open-at-night': 'doorOpenAtNight',
  'door-left-open': 'doorLeftOpen',
  'not-in-bed-by': 'notInBedBy',
  'sensor-silent': 'sensorSilent',
  'sensor-offline': 'sensorOffline',
  'low-battery': 'lowBattery',
  tamper: 'tamper',
  flapping: 'flapping',
  'self-test-missed': 'selfTestMissed',
  'self-test-failed': 'selfTestFailed',
} as const satisfies Record<RuleId, string>;

type RuleKey = (typeof RULE_KEYS)[RuleId];
const ruleKey = (rule: string): RuleKey | null => (RULE_KEYS as Record<string, RuleKey>)[rule] ?? null;

/**
 * The alarm's reason in words: the server's explanation, or, for an alarm that has none (one
 * shown from the gateway's local feed while the server is gone), words built here from its
 * structured evidence. `format` turns an instant into a site-local "HH:MM".
 */
export function explainAlarm(alarm: Alarm, t: TFunction, format: (instant: string) => string, lang: string): string {
  const words = serverWords(alarm, lang);
  if (words) return words.detail;
  const { evidence } = alarm;
  const key = ruleKey(alarm.rule);
  const values = {
    time: format(evidence.since),
    start: evidence.nightWindow?.start ?? '',
    end: evidence.nightWindow?.end ?? '',
    minutes: evidence.setting?.minutes ?? evidence.thresholdMinutes ?? '',
    clock: evidence.setting?.time ?? '',
    value: evidence.value ?? '',
    kind: t(`sensor.${evidence.sensorKind ?? 'bed'}`),
    room: alarm.roomName,
    resident: alarm.residentName || t('alarm.theResident'),
  };
  // A rule added to the protocol after this build still says when, rather than nothing.
  return key === null ? t('explain.unknownRule', values) : t(`explain.${key}`, values);
}

export function ruleTitle(alarm: Alarm, t: TFunction, lang: string): string {
  const words = serverWords(alarm, lang);
  if (words) return words.title;
  const key = ruleKey(alarm.rule);
  return key === null ? t('rule.unknown') : t(`rule.${key}`);
}

/** A rule's name without an alarm, for plans and reports. */
export function ruleName(rule: string, t: TFunction): string {
  const key = ruleKey(rule);
  return key === null ? rule : t(`rule.${key}`);
}
