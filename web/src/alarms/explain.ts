import type { Alarm } from '@nattevakt/protocol/alarm';
import type { TFunction } from 'i18next';

/** The server's words for the alarm (the protocol's explainer, nb and en, kept with the alarm). */
const serverWords = (alarm: Alarm, lang: string) => alarm.explanation?.[lang.startsWith('en') ? 'en' : 'nb'] ?? null;

/**
 * The alarm's reason in words (the server's explanation; built here only for alarms stored without one), built from its structured evidence so that each language says it
 * its own way. `format` turns an instant into a site-local "HH:MM".
 */
export function explainAlarm(alarm: Alarm, t: TFunction, format: (instant: string) => string, lang: string): string {
  const words = serverWords(alarm, lang);
  if (words) return words.detail;
  const { evidence } = alarm;
  const time = format(evidence.since);
  switch (alarm.rule) {
    case 'door-open-at-night':
      return evidence.nightWindow
        ? t('explain.doorOpenAtNight', { time, start: evidence.nightWindow.start, end: evidence.nightWindow.end })
        : t('explain.doorOpenAtNightNoWindow', { time });
    case 'out-of-bed-too-long':
      return evidence.thresholdMinutes !== undefined
        ? t('explain.outOfBedTooLong', { time, minutes: evidence.thresholdMinutes })
        : t('explain.outOfBedNoThreshold', { time });
    default:
      // A rule added to the protocol after this build: still say when, rather than nothing.
      return t('explain.unknownRule', { time });
  }
}

export function ruleTitle(alarm: Alarm, t: TFunction, lang: string): string {
  const words = serverWords(alarm, lang);
  if (words) return words.title;
  switch (alarm.rule) {
    case 'door-open-at-night':
      return t('rule.doorOpenAtNight');
    case 'out-of-bed-too-long':
      return t('rule.outOfBedTooLong');
    default:
      return t('rule.unknown');
  }
}
