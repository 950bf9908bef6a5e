import { lazy, type ReactNode, Suspense, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { fetchMe, logout, type Me } from './api/auth.js';
import { useWardPart, WardProvider } from './api/ward-context.js';
import { Login } from './pages/Login.js';
import { StartShift } from './pages/StartShift.js';
import { WardBoard } from './pages/WardBoard.js';
import { navigate, PAGE_PATHS, pageFor, usePath } from './routing/router.js';
import { SiteTimeProvider } from './time/site-time.js';

// Only the nurse's board is in the first download: the other pages load when opened.
const RelativePage = lazy(() => import('./pages/RelativePage.js').then((m) => ({ default: m.RelativePage })));
const TechnicianPage = lazy(() => import('./pages/TechnicianPage.js').then((m) => ({ default: m.TechnicianPage })));
const AdminPage = lazy(() => import('./pages/AdminPage.js').then((m) => ({ default: m.AdminPage })));

export function App() {
  // undefined: still asking the server who is logged in.
  const [me, setMe] = useState<Me | null | undefined>(undefined);
  const [unreachable, setUnreachable] = useState(false);
  useEffect(() => {
    let retry: ReturnType<typeof setTimeout> | undefined;
    const ask = () =>
      fetchMe().then(
        (found) => {
          setUnreachable(false);
          setMe(found);
        },
        () => {
          setUnreachable(true);
          retry = setTimeout(ask, 2000);
        },
      );
    void ask();
    return () => clearTimeout(retry);
  }, []);
  // Opened from the home screen without a server (the service worker's cached shell): say so, never look like a working board.
  if (me === undefined) return unreachable ? <ServerUnreachable /> : null;
  if (me === null) return <Login onLogin={setMe} />;
  return <Routed me={me} onLogout={() => void logout().then(() => setMe(null))} />;
}

/** Routing by role: each person lands on their own page and sees only the pages of their role. */
function Routed({ me, onLogout }: { me: Me; onLogout: () => void }) {
  const path = usePath();
  const page = pageFor(me, path);
  useEffect(() => {
    if (page !== null && !path.startsWith(PAGE_PATHS[page])) navigate(PAGE_PATHS[page], true);
  }, [page, path]);
  useDayOrNight(page === 'relative' ? 'day' : 'night');

  switch (page) {
    case null:
      return <NoAccess onLogout={onLogout} />;
    case 'board':
      // The ward connection starts only with a session: the socket's handshake carries the cookie.
      return (
        <WardProvider receipts>
          <Shift me={me} onLogout={onLogout} />
        </WardProvider>
      );
    case 'relative':
      return (
        <Lazy>
          <RelativePage me={me} onLogout={onLogout} />
        </Lazy>
      );
    case 'technician':
      return (
        <Lazy>
          <TechnicianPage me={me} onLogout={onLogout} />
        </Lazy>
      );
    case 'admin':
      return (
        <Lazy>
          <AdminPage me={me} onLogout={onLogout} />
        </Lazy>
      );
  }
}

function Lazy({ children }: { children: ReactNode }) {
  const { t } = useTranslation();
  return (
    <Suspense
      fallback={
        <p className="page-loading" role="status">
          {t('app.loading')}
        </p>
      }
    >
      {children}
    </Suspense>
  );
}

/** The relatives' page is read in daylight on a phone; everything else is used on a dark ward. */
function useDayOrNight(theme: 'day' | 'night'): void {
  useEffect(() => {
    document.documentElement.dataset.theme = theme;
    document.querySelector('meta[name="theme-color"]')?.setAttribute('content', theme === 'day' ? '#f6f4ef' : '#05070a');
    document.querySelector('meta[name="color-scheme"]')?.setAttribute('content', theme === 'day' ? 'light' : 'dark');
  }, [theme]);
}

function Shift({ me, onLogout }: { me: Me; onLogout: () => void }) {
  // The shift is deliberately not remembered across reloads: sound needs a fresh tap each load.
  const [started, setStarted] = useState(false);
  return (
    <WardClock>
      {started ? (
        <WardBoard me={me} onEndShift={() => setStarted(false)} />
      ) : (
        <StartShift me={me} onStart={() => setStarted(true)} onLogout={onLogout} />
      )}
    </WardClock>
  );
}

function NoAccess({ onLogout }: { onLogout: () => void }) {
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

function ServerUnreachable() {
  const { t } = useTranslation();
  return (
    <div className="start-shift">
      <div className="server-lost" role="alert" data-testid="server-unreachable">
        <div className="server-lost-head">
          <span className="server-lost-icon" aria-hidden="true">
            !
          </span>
          <strong className="server-lost-title">{t('connection.lost')}</strong>
        </div>
        <p className="server-lost-detail">{t('connection.unreachableAtStart')}</p>
      </div>
    </div>
  );
}

/** The site clock for the shift's pages; room updates do not reach it (they would re-render every clock reader). */
function WardClock({ children }: { children: ReactNode }) {
  const clock = useWardPart((ward) => ward.clock);
  const timeZone = useWardPart((ward) => ward.site?.timezone);
  return (
    <SiteTimeProvider clock={clock} timeZone={timeZone}>
      {children}
    </SiteTimeProvider>
  );
}
