import type { Alarm } from '@nattevakt/protocol/alarm';
import type { TFunction } from 'i18next';

/**
 * The alarm's reason in words, built from its structured evidence so that each language says it
 * its own way. `format` turns an instant into a site-local "HH:MM".
 */
export function explainAlarm(alarm: Alarm, t: TFunction, format: (instant: string) => string): string {
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

export function ruleTitle(alarm: Alarm, t: TFunction): string {
  switch (alarm.rule) {
    case 'door-open-at-night':
      return t('rule.doorOpenAtNight');
    case 'out-of-bed-too-long':
      return t('rule.outOfBedTooLong');
    default:
      return t('rule.unknown');
  }
}
