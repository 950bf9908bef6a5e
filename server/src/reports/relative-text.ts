import type { NightSummary } from '@nattevakt/protocol/night-summary';

/**
 * Last night in plain words for a relative, in Norwegian Bokmål and English: "Sov rolig, var oppe
 * én gang kl. 03:12 i seks minutter." Built from the summary alone: never from raw events, never
 * naming staff, never saying which alarm rule fired.
 */

const NB = ['null', 'én', 'to', 'tre', 'fire', 'fem', 'seks', 'sju', 'åtte', 'ni', 'ti', 'elleve', 'tolv'];
const EN = ['no', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten', 'eleven', 'twelve'];

/** A small count in words ("seks", "six"); digits from 13. `neuter` gives "ett" (ett minutt). */
export function countWord(n: number, lang: 'nb' | 'en', neuter = false): string {
  if (lang === 'nb' && n === 1 && neuter) return 'ett';
  const words = lang === 'nb' ? NB : EN;
  return n < words.length ? (words[n] as string) : String(n);
}

/** "seks minutter", "én time og 20 minutter" / "six minutes", "one hour and 20 minutes". */
export function spokenDuration(totalMinutes: number, lang: 'nb' | 'en'): string {
  const h = Math.floor(totalMinutes / 60);
  const m = totalMinutes % 60;
  const mins =
    lang === 'nb' ? `${countWord(m, 'nb', true)} ${m === 1 ? 'minutt' : 'minutter'}` : `${countWord(m, 'en')} minute${m === 1 ? '' : 's'}`;
  if (h === 0) return mins;
  const hours = lang === 'nb' ? `${countWord(h, 'nb')} ${h === 1 ? 'time' : 'timer'}` : `${countWord(h, 'en')} hour${h === 1 ? '' : 's'}`;
  if (m === 0) return hours;
  return lang === 'nb' ? `${hours} og ${mins}` : `${hours} and ${mins}`;
}

/** "03:12" on the site's local clock. */
export function clockTime(iso: string, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(
    new Date(iso),
  );
  const part = (type: string) => parts.find((p) => p.type === type)?.value ?? '00';
  return `${part('hour')}:${part('minute')}`;
}

const timesNb = (n: number) => (n === 1 ? 'én gang' : `${countWord(n, 'nb')} ganger`);
const timesEn = (n: number) => (n === 1 ? 'once' : n === 2 ? 'twice' : `${countWord(n, 'en')} times`);

/** Last night for a relative, in both languages. */
export function relativeText(summary: NightSummary): { nb: string; en: string } {
  if (summary.verdict === 'unknown' || summary.bedExits === null || summary.timeInBedMinutes === null)
    return {
      nb: 'Sengematten meldte ingenting i natt, så vi kan ikke si hvordan natten var.',
      en: 'The bed mat reported nothing last night, so we cannot say how the night was.',
    };
  const zone = summary.timeZone;
  const calm = summary.verdict === 'calm';
  const exits = summary.outOfBed.filter((s) => s.minutes > 0 || s.backInBed);
  const longest = exits.reduce<(typeof exits)[number] | undefined>(
    (best, s) => (best === undefined || s.minutes > best.minutes ? s : best),
    undefined,
  );
  let nb: string;
  let en: string;
  if (exits.length === 0 || longest === undefined) {
    nb = `${calm ? 'Sov rolig' : 'Hadde en urolig natt'} og var ikke oppe i løpet av natten.`;
    en = `${calm ? 'Slept calmly' : 'Had a restless night'} and was not up during the night.`;
  } else {
    const at = clockTime(longest.from, zone);
    const upNb =
      exits.length === 1
        ? `var oppe én gang kl. ${at} i ${spokenDuration(longest.minutes, 'nb')}`
        : `var oppe ${timesNb(exits.length)}, lengst kl. ${at} i ${spokenDuration(longest.minutes, 'nb')}`;
    const upEn =
      exits.length === 1
        ? `was up once at ${at} for ${spokenDuration(longest.minutes, 'en')}`
        : `was up ${timesEn(exits.length)}, the longest at ${at} for ${spokenDuration(longest.minutes, 'en')}`;
    nb = `${calm ? 'Sov rolig' : 'Hadde en urolig natt'}, ${upNb}.`;
    en = `${calm ? 'Slept calmly' : 'Had a restless night'}, ${upEn}.`;
  }
  nb += ` Lå i sengen i ${spokenDuration(summary.timeInBedMinutes, 'nb')}.`;
  en += ` Was in bed for ${spokenDuration(summary.timeInBedMinutes, 'en')}.`;
  const alerts = summary.alarms.filter((a) => a.priority !== 'technical').length;
  if (alerts > 0) {
    nb += ` Nattevakten ble varslet ${timesNb(alerts)}.`;
    en += ` The night staff were alerted ${timesEn(alerts)}.`;
  }
  return { nb, en };
}
