import type { UnprotectedReason, UnprotectedView } from '@nattevakt/protocol/supervision';
import type { TFunction } from 'i18next';
import { useEffect, useMemo, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { ruleName } from '../alarms/explain.js';
import { alarmsOfSite, isOpen } from '../alarms/order.js';
import { getJson, HttpError } from '../api/rest.js';
import { useWard } from '../api/ward-context.js';
import { formatDay } from '../time/format.js';
import { useSiteTime } from '../time/site-time.js';
import { unprotectedFromRooms, type Weakness } from '../ward/protection.js';

const REFRESH_MS = 60_000;
/** Room and alarm changes come in bursts; ask the server once they settle. */
const SETTLE_MS = 1_000;
/** ...but no later than this after the first change that has not been asked about. */
const MAX_WAIT_MS = 10_000;

interface Entry {
  residentId: string;
  residentName: string;
  roomName: string;
  none: boolean;
  reasons: string[];
}

/**
 * "Ubeskyttet i natt": every resident whose protection is weakened, with the reasons in words.
 * The server's list (GET /api/sites/:id/unprotected: legal basis, evaluations, plan status,
 * sensors, technical alarms) when it answers; otherwise what the board itself can see in the
 * rooms, so the panel never goes blank while the server is away.
 */
export function UnprotectedPanel() {
  const { t } = useTranslation();
  const ward = useWard();
  const { now, format } = useSiteTime();
  const siteId = ward.site?.id;
  const [server, setServer] = useState<UnprotectedView | null>(null);

  // Asks the server once changes settle; kept in a ref so that a change does not restart the refresh.
  const changed = useRef<(() => void) | null>(null);
  useEffect(() => {
    if (siteId === undefined || ward.link !== 'connected') return;
    const aborter = new AbortController();
    let latest = 0;
    const load = () => {
      const asked = ++latest;
      // Only the newest answer counts: two asks a second apart may come back in either order.
      getJson<UnprotectedView>(`/api/sites/${encodeURIComponent(siteId)}/unprotected`, aborter.signal).then(
        (view) => {
          if (asked === latest) setServer(view);
        },
        (error: unknown) => {
          if (!aborter.signal.aborted && asked === latest && error instanceof HttpError) setServer(null);
        },
      );
    };
    let settle: ReturnType<typeof setTimeout> | undefined;
    let firstChange: number | null = null;
    // A busy ward changes a room every few hundred ms: settling alone would never ask, so at most MAX_WAIT_MS after the first change.
    const onChange = () => {
      firstChange ??= Date.now();
      clearTimeout(settle);
      settle = setTimeout(
        () => {
          firstChange = null;
          load();
        },
        Math.max(0, Math.min(SETTLE_MS, firstChange + MAX_WAIT_MS - Date.now())),
      );
    };
    changed.current = onChange;
    onChange();
    const timer = setInterval(load, REFRESH_MS);
    return () => {
      changed.current = null;
      aborter.abort();
      clearTimeout(settle);
      clearInterval(timer);
    };
  }, [siteId, ward.link]);
  // biome-ignore lint/correctness/useExhaustiveDependencies: rooms and alarms are the triggers (a sensor goes silent, a technical alarm opens).
  useEffect(() => {
    changed.current?.();
  }, [ward.rooms, ward.alarms]);

  const minute = Math.floor(now / 60_000);
  const derived = useMemo(() => {
    const open = alarmsOfSite(ward.alarms.values(), siteId).filter(isOpen);
    return unprotectedFromRooms(ward.rooms, open, minute * 60_000);
  }, [ward.alarms, ward.rooms, siteId, minute]);

  const useServer = server !== null && server.siteId === siteId && ward.link === 'connected';
  const list: Entry[] = useServer
    ? server.residents.map((r) => ({
        residentId: r.residentId,
        residentName: r.residentName,
        roomName: r.roomName,
        none: r.protection === 'none',
        reasons: r.reasons.map((reason) => serverReason(reason, t, format)),
      }))
    : derived.map((r) => ({
        residentId: r.residentId,
        residentName: r.residentName,
        roomName: r.roomName,
        none: r.reasons.some((reason) => reason.kind === 'plan-paused'),
        reasons: r.reasons.map((reason) => weaknessText(reason, t)),
      }));

  return (
    <details
      className="unprotected"
      data-testid="unprotected-panel"
      open={list.length > 0}
      data-count={list.length}
      data-source={useServer ? 'server' : 'board'}
    >
      <summary>{list.length === 0 ? t('unprotected.none') : t('unprotected.title', { count: list.length })}</summary>
      {list.length > 0 && (
        <ul className="unprotected-list">
          {list.map((entry) => (
            <li key={entry.residentId} className="unprotected-item" data-testid={`unprotected-${entry.residentId}`}>
              <strong>
                {entry.roomName} · {entry.residentName}
              </strong>
              {entry.none && <span className="badge badge-unarmed"> {t('unprotected.noProtection')}</span>}
              <ul className="unprotected-reasons">
                {entry.reasons.map((reason) => (
                  <li key={reason}>{reason}</li>
                ))}
              </ul>
            </li>
          ))}
        </ul>
      )}
      {list.length > 0 && <p className="unprotected-note">{t('unprotected.note')}</p>}
    </details>
  );
}

function serverReason(reason: UnprotectedReason, t: TFunction, format: (instant: string) => string): string {
  const kind = reason.sensorKind ? t(`sensor.${reason.sensorKind}`) : t('unprotected.aSensor');
  switch (reason.code) {
    case 'no-legal-basis':
      return t('unprotected.noLegalBasis');
    case 'plan-paused':
      return reason.until
        ? t('unprotected.pausedUntil', { time: format(reason.until), reason: reason.reason ?? '' })
        : t('unprotected.paused', { reason: reason.reason ?? '' });
    case 'plan-ended':
      return t('unprotected.ended', { reason: reason.reason ?? '' });
    case 'evaluation-overdue':
      return t('unprotected.evaluationOverdue', { date: formatDay(reason.date ?? ''), days: Math.abs(reason.days ?? 0) });
    case 'evaluation-due':
      return t('unprotected.evaluationDue', { date: formatDay(reason.date ?? ''), days: reason.days ?? 0 });
    case 'sensor-missing':
      return t('unprotected.sensorMissing', { kind });
    case 'sensor-never-seen':
      return t('unprotected.sensorNeverSeen', { kind });
    case 'sensor-offline':
      return t('unprotected.sensorOffline', { kind });
    case 'sensor-silent':
      return reason.since
        ? t('unprotected.sensorSilentSince', { kind, time: format(reason.since) })
        : t('unprotected.sensorSilent', { kind, minutes: reason.minutes ?? 0 });
    case 'low-battery':
      return t('unprotected.lowBattery', { kind, percent: reason.battery ?? 0 });
    case 'technical-alarm':
      return t('unprotected.technicalAlarm', { rule: ruleName(reason.rule ?? '', t) });
    default:
      return reason.code;
  }
}

function weaknessText(reason: Weakness, t: TFunction): string {
  switch (reason.kind) {
    case 'plan-paused':
      return t('unprotected.planPaused');
    case 'no-sensors':
      return t('unprotected.noSensors');
    case 'sensor-offline':
      return t('unprotected.sensorOffline', { kind: t(`sensor.${reason.sensorKind}`) });
    case 'sensor-never-seen':
      return t('unprotected.sensorNeverSeen', { kind: t(`sensor.${reason.sensorKind}`) });
    case 'sensor-silent':
      return t('unprotected.sensorSilent', { kind: t(`sensor.${reason.sensorKind}`), minutes: reason.minutes });
    case 'low-battery':
      return t('unprotected.lowBattery', { kind: t(`sensor.${reason.sensorKind}`), percent: reason.percent });
    case 'technical-alarm':
      return t('unprotected.technicalAlarm', { rule: ruleName(reason.rule, t) });
  }
}
