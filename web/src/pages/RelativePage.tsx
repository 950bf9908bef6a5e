import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { Me } from '../api/auth.js';
import {
  fetchLastNight,
  fetchRelativeResidents,
  fetchTrend,
  type RelativeLastNight,
  type RelativeResident,
  type RelativeTrend,
} from '../api/relative.js';
import { HttpError } from '../api/rest.js';
import { LanguageToggle } from '../components/LanguageToggle.js';
import { currentLanguage } from '../i18n/index.js';
import { type Bar, NightBars } from '../relative/NightBars.js';
import '../styles/day.css';

type Load<T> = { state: 'loading' } | { state: 'ready'; value: T } | { state: 'failed'; forbidden: boolean };

/**
 * The relative's page: read on a phone in daylight, calm, and only what the resident (or their
 * guardian) agreed to share: last night in plain words and the last fourteen nights as three
 * small charts. The API gives no alarm details and no staff names, and every read is logged.
 */
export function RelativePage({ me, onLogout }: { me: Me; onLogout: () => void }) {
  const { t } = useTranslation();
  const [residents, setResidents] = useState<Load<RelativeResident[]>>({ state: 'loading' });
  const [chosen, setChosen] = useState<string | null>(null);

  useEffect(() => {
    const aborter = new AbortController();
    fetchRelativeResidents(aborter.signal).then(
      (value) => setResidents({ state: 'ready', value }),
      (error: unknown) => {
        if (!aborter.signal.aborted) setResidents({ state: 'failed', forbidden: error instanceof HttpError && error.status === 403 });
      },
    );
    return () => aborter.abort();
  }, []);

  const list = residents.state === 'ready' ? residents.value : [];
  const resident = list.find((r) => `${r.siteId}/${r.residentId}` === chosen) ?? list[0];

  return (
    <div className="day-page" data-testid="relative-page">
      <header className="day-header">
        <div>
          <p className="day-app">{t('app.name')}</p>
          <p className="day-who">{t('relative.signedInAs', { name: me.displayName })}</p>
        </div>
        <div className="day-actions">
          <LanguageToggle />
          <button type="button" className="day-btn" onClick={onLogout} data-testid="logout">
            {t('start.logout')}
          </button>
        </div>
      </header>
      <main className="day-main">
        {residents.state === 'loading' && <p role="status">{t('app.loading')}</p>}
        {residents.state === 'failed' && (
          <p className="day-error" role="alert">
            {residents.forbidden ? t('relative.forbidden') : t('relative.failed')}
          </p>
        )}
        {residents.state === 'ready' && list.length === 0 && (
          <p className="day-card" data-testid="relative-none">
            {t('relative.none')}
          </p>
        )}
        {list.length > 1 && (
          <nav className="day-tabs" aria-label={t('relative.choose')}>
            {list.map((r) => (
              <button
                key={`${r.siteId}/${r.residentId}`}
                type="button"
                className="day-tab"
                aria-pressed={r === resident}
                onClick={() => setChosen(`${r.siteId}/${r.residentId}`)}
              >
                {r.name}
              </button>
            ))}
          </nav>
        )}
        {resident && <ResidentNights key={`${resident.siteId}/${resident.residentId}`} resident={resident} />}
        <p className="day-privacy">{t('relative.privacy')}</p>
      </main>
    </div>
  );
}

function ResidentNights({ resident }: { resident: RelativeResident }) {
  const { t } = useTranslation();
  const [lastNight, setLastNight] = useState<Load<RelativeLastNight>>({ state: 'loading' });
  const [trend, setTrend] = useState<Load<RelativeTrend>>({ state: 'loading' });
  useEffect(() => {
    const aborter = new AbortController();
    const failed = (error: unknown) => ({ state: 'failed' as const, forbidden: error instanceof HttpError && error.status === 403 });
    fetchLastNight(resident, aborter.signal).then(
      (value) => setLastNight({ state: 'ready', value }),
      (error: unknown) => !aborter.signal.aborted && setLastNight(failed(error)),
    );
    fetchTrend(resident, 14, aborter.signal).then(
      (value) => setTrend({ state: 'ready', value }),
      (error: unknown) => !aborter.signal.aborted && setTrend(failed(error)),
    );
    return () => aborter.abort();
  }, [resident]);
  const lang = currentLanguage();

  return (
    <>
      <section className="day-card last-night" data-testid="last-night" aria-labelledby="last-night-title">
        <h1 id="last-night-title">{resident.name}</h1>
        {lastNight.state === 'loading' && <p role="status">{t('app.loading')}</p>}
        {lastNight.state === 'failed' && (
          <p className="day-error" role="alert">
            {lastNight.forbidden ? t('relative.forbidden') : t('relative.failed')}
          </p>
        )}
        {lastNight.state === 'ready' && (
          <>
            <p className="last-night-when">
              {lastNight.value.night === null
                ? t('relative.lastNight')
                : t('relative.nightOf', { date: longNight(lastNight.value.night, lang) })}
            </p>
            <p className={`verdict verdict-${lastNight.value.verdict ?? 'none'}`} data-testid="last-night-text">
              <span className="verdict-mark" aria-hidden="true">
                {lastNight.value.verdict === 'calm' ? '☾' : lastNight.value.verdict === 'restless' ? '◐' : '○'}
              </span>
              <span>{lastNight.value.text[lang]}</span>
            </p>
          </>
        )}
      </section>
      <section className="day-card" data-testid="trend" aria-labelledby="trend-title">
        <h2 id="trend-title">{t('relative.trendTitle')}</h2>
        {trend.state === 'loading' && <p role="status">{t('app.loading')}</p>}
        {trend.state === 'failed' && (
          <p className="day-error" role="alert">
            {trend.forbidden ? t('relative.forbidden') : t('relative.failed')}
          </p>
        )}
        {trend.state === 'ready' && <TrendCharts trend={trend.value} lang={lang} />}
      </section>
    </>
  );
}

function TrendCharts({ trend, lang }: { trend: RelativeTrend; lang: 'nb' | 'en' }) {
  const { t } = useTranslation();
  const bars = (pick: (night: RelativeTrend['nights'][number]) => number | null): Bar[] =>
    trend.nights.map((night) => ({
      label: String(morningOf(night.night).getUTCDate()),
      longLabel: longNight(night.night, lang),
      value: pick(night),
    }));
  const hours = (minutes: number) => t('relative.hoursMinutes', { hours: Math.floor(minutes / 60), minutes: minutes % 60 });
  const common = { nightHeading: t('relative.night'), noData: t('relative.noData') };
  if (trend.nights.every((night) => night.timeInBedMinutes === null && night.bedExits === null && night.alarms === null))
    return <p data-testid="trend-empty">{t('relative.trendEmpty')}</p>;
  return (
    <div className="trend-charts">
      <NightBars
        {...common}
        testId="trend-in-bed"
        title={t('relative.timeInBed')}
        bars={bars((n) => n.timeInBedMinutes)}
        format={hours}
        minMax={8 * 60}
      />
      <NightBars
        {...common}
        testId="trend-exits"
        title={t('relative.bedExits')}
        bars={bars((n) => n.bedExits)}
        format={(v) => t('relative.times', { count: v })}
        minMax={3}
      />
      <NightBars
        {...common}
        testId="trend-alarms"
        title={t('relative.alarms')}
        bars={bars((n) => n.alarms)}
        format={(v) => t('relative.count', { count: v })}
        minMax={3}
      />
      <p className="trend-note">{t('relative.trendNote')}</p>
    </div>
  );
}

/** The morning a night ends on: a night is named by its evening's date, people name it by the morning ("natt til onsdag"). */
function morningOf(night: string): Date {
  const [y, m, d] = night.split('-').map(Number);
  return new Date(Date.UTC(y ?? 1970, (m ?? 1) - 1, (d ?? 1) + 1, 12));
}

/** "onsdag 25. november" for the night of the 24th (calendar dates: no time zone involved). */
function longNight(night: string, lang: 'nb' | 'en'): string {
  return new Intl.DateTimeFormat(lang === 'nb' ? 'nb-NO' : 'en-GB', {
    weekday: 'long',
    day: 'numeric',
    month: 'long',
    timeZone: 'UTC',
  }).format(morningOf(night));
}
