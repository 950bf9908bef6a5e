import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { AlarmSoundState } from '../alarm-sound/useAlarmSound.js';

/** Sound state in the header: off (needs a tap), paused with its countdown, or the pause button. */
export function SoundControl({ sound }: { sound: AlarmSoundState }) {
  const { t } = useTranslation();
  if (!sound.ready) {
    return (
      <button type="button" className="btn btn-warning" data-testid="enable-sound" onClick={sound.unlock}>
        {t('sound.enable')}
      </button>
    );
  }
  if (sound.pausedUntil !== null) {
    return (
      <div className="sound-paused" role="status">
        <PauseCountdown until={sound.pausedUntil} />
        <button type="button" className="btn btn-quiet" data-testid="unpause-sound" onClick={sound.unpause}>
          {t('sound.unpause')}
        </button>
      </div>
    );
  }
  if (sound.demand) {
    return (
      <button type="button" className="btn btn-pause" data-testid="pause-sound" onClick={sound.pause}>
        {t('sound.pause')}
      </button>
    );
  }
  return <span className="status-pill status-ok">{t('sound.on')}</span>;
}

function PauseCountdown({ until }: { until: number }) {
  const { t } = useTranslation();
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  const left = Math.max(0, Math.ceil((until - now) / 1000));
  const remaining = `${Math.floor(left / 60)}:${String(left % 60).padStart(2, '0')}`;
  return (
    <span className="sound-paused-label" data-testid="sound-paused">
      {t('sound.paused', { remaining })}
    </span>
  );
}
