import type { FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { alarmSound } from '../alarm-sound/player.js';
import { alarmsOfSite, isOpen } from '../alarms/order.js';
import type { Me } from '../api/auth.js';
import { useWard } from '../api/ward-context.js';
import { ConnectionBanner } from '../components/ConnectionBanner.js';
import { InstallHint } from '../components/InstallHint.js';
import { LanguageToggle } from '../components/LanguageToggle.js';
import { LocalFeedSettingsForm } from '../components/LocalFeedSettingsForm.js';
import { PageNav } from '../components/PageNav.js';
import { keepScreenOn } from '../shift/wake-lock.js';

/**
 * The first screen after login on every page load. Its button is the user gesture that browsers
 * require before sound can play and before the screen may be kept on. The nurse is the person
 * logged in: colleagues see that name on the alarms they take.
 */
export function StartShift({ me, onStart, onLogout }: { me: Me; onStart: () => void; onLogout: () => void }) {
  const { t } = useTranslation();
  const ward = useWard();
  const waiting = alarmsOfSite(ward.alarms.values(), ward.site?.id).filter(isOpen).length;

  const start = (event: FormEvent) => {
    event.preventDefault();
    // Both must start inside this gesture; neither may hold up the shift if it fails.
    void alarmSound.unlock();
    void keepScreenOn();
    onStart();
  };

  return (
    <div className="start-shift">
      <ConnectionBanner />
      <div className="start-top">
        <PageNav me={me} current="board" />
        <LanguageToggle />
      </div>
      <form className="start-card" onSubmit={start}>
        <h1>{t('app.name')}</h1>
        {ward.site && <p className="start-site">{ward.site.name}</p>}
        <p className="start-site" data-testid="signed-in-as">
          {t('start.signedInAs', { name: me.displayName })}
        </p>
        {waiting > 0 && (
          <p className="start-waiting" role="alert" data-testid="start-waiting">
            {t('start.alarmsWaiting', { count: waiting })}
          </p>
        )}
        <button type="submit" className="btn btn-primary btn-large" data-testid="start-shift">
          {t('start.button')}
        </button>
        <p className="start-hint">{t('start.hint')}</p>
        <button type="button" className="btn" onClick={onLogout} data-testid="logout">
          {t('start.logout')}
        </button>
      </form>
      <div className="start-extras">
        <InstallHint />
        <LocalFeedSettingsForm />
      </div>
    </div>
  );
}
