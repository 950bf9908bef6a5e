import { type FormEvent, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { alarmSound } from '../alarm-sound/player.js';
import { alarmsOfSite, isOpen } from '../alarms/order.js';
import { useWard } from '../api/ward-context.js';
import { ConnectionBanner } from '../components/ConnectionBanner.js';
import { LanguageToggle } from '../components/LanguageToggle.js';
import { cleanNurseName, loadNurseName, MAX_NAME_LENGTH, saveNurseName } from '../shift/nurse-name.js';
import { keepScreenOn } from '../shift/wake-lock.js';

/**
 * The first screen of every page load. Its button is the user gesture that browsers require
 * before sound can play and before the screen may be kept on.
 */
export function StartShift({ onStart }: { onStart: (nurse: string) => void }) {
  const { t } = useTranslation();
  const ward = useWard();
  const [name, setName] = useState(loadNurseName);
  const [missingName, setMissingName] = useState(false);
  const waiting = alarmsOfSite(ward.alarms.values(), ward.site?.id).filter(isOpen).length;

  const start = (event: FormEvent) => {
    event.preventDefault();
    const nurse = cleanNurseName(name);
    if (!nurse) {
      setMissingName(true);
      return;
    }
    // Both must start inside this gesture; neither may hold up the shift if it fails.
    void alarmSound.unlock();
    void keepScreenOn();
    saveNurseName(nurse);
    onStart(nurse);
  };

  return (
    <div className="start-shift">
      <ConnectionBanner />
      <div className="start-top">
        <LanguageToggle />
      </div>
      <form className="start-card" onSubmit={start}>
        <h1>{t('app.name')}</h1>
        {ward.site && <p className="start-site">{ward.site.name}</p>}
        {waiting > 0 && (
          <p className="start-waiting" role="alert" data-testid="start-waiting">
            {t('start.alarmsWaiting', { count: waiting })}
          </p>
        )}
        <label className="field">
          <span>{t('start.nameLabel')}</span>
          <input
            data-testid="nurse-name"
            name="nurse"
            autoComplete="name"
            maxLength={MAX_NAME_LENGTH}
            value={name}
            onChange={(event) => {
              setName(event.target.value);
              setMissingName(false);
            }}
            aria-invalid={missingName}
          />
        </label>
        {missingName && (
          <p className="field-error" role="alert">
            {t('start.nameRequired')}
          </p>
        )}
        <button type="submit" className="btn btn-primary btn-large" data-testid="start-shift">
          {t('start.button')}
        </button>
        <p className="start-hint">{t('start.hint')}</p>
      </form>
    </div>
  );
}
