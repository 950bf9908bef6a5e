import { type ReactNode, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { canUseBoard, fetchMe, logout, type Me } from './api/auth.js';
import { useWard, WardProvider } from './api/ward-context.js';
import { Login } from './pages/Login.js';
import { StartShift } from './pages/StartShift.js';
import { WardBoard } from './pages/WardBoard.js';
import { SiteTimeProvider } from './time/site-time.js';

export function App() {
  // undefined: still asking the server who is logged in.
  const [me, setMe] = useState<Me | null | undefined>(undefined);
  useEffect(() => {
    let retry: ReturnType<typeof setTimeout> | undefined;
    const ask = () =>
      fetchMe().then(setMe, () => {
        retry = setTimeout(ask, 2000);
      });
    void ask();
    return () => clearTimeout(retry);
  }, []);
  if (me === undefined) return null;
  if (me === null) return <Login onLogin={setMe} />;
  if (!canUseBoard(me)) return <NoBoard onLogout={() => void logout().then(() => setMe(null))} />;
  // The ward connection starts only with a session: the socket's handshake carries the cookie.
  return (
    <WardProvider>
      <Shift me={me} onLogout={() => void logout().then(() => setMe(null))} />
    </WardProvider>
  );
}

function Shift({ me, onLogout }: { me: Me; onLogout: () => void }) {
  // The shift is deliberately not remembered across reloads: sound needs a fresh tap each load.
  const [started, setStarted] = useState(false);
  return (
    <WardClock>
      {started ? (
        <WardBoard nurse={me.displayName} onEndShift={() => setStarted(false)} />
      ) : (
        <StartShift me={me} onStart={() => setStarted(true)} onLogout={onLogout} />
      )}
    </WardClock>
  );
}

function NoBoard({ onLogout }: { onLogout: () => void }) {
  const { t } = useTranslation();
  return (
    <div className="start-shift">
      <div className="start-card">
        <h1>{t('app.name')}</h1>
        <p className="field-error" role="alert">
          {t('login.forbidden')}
        </p>
        <button type="button" className="btn btn-large" onClick={onLogout} data-testid="logout">
          {t('start.logout')}
        </button>
      </div>
    </div>
  );
}

function WardClock({ children }: { children: ReactNode }) {
  const ward = useWard();
  return (
    <SiteTimeProvider clock={ward.clock} timeZone={ward.site?.timezone}>
      {children}
    </SiteTimeProvider>
  );
}
