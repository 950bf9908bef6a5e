import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';

interface InstallPromptEvent extends Event {
  prompt: () => Promise<void>;
}

/** Running as a Home Screen web app already (iOS Safari's flag, or the display mode of an installed PWA). */
export function isStandalone(): boolean {
  return (
    window.matchMedia?.('(display-mode: standalone)').matches === true ||
    (navigator as Navigator & { standalone?: boolean }).standalone === true
  );
}

function platform(): 'ios' | 'android' | 'other' {
  const ua = navigator.userAgent;
  // iPadOS presents itself as a Mac; only the touch points give it away.
  if (/iPad|iPhone|iPod/.test(ua) || (/Macintosh/.test(ua) && navigator.maxTouchPoints > 1)) return 'ios';
  if (/Android/.test(ua)) return 'android';
  return 'other';
}

/**
 * How to pin the board to the home screen. On iPad that is what makes the Screen Wake Lock
 * (iOS 18.4+) and Web Push work at all; everywhere it gives a full-screen board without the
 * address bar. Chrome offers its own install prompt, which a button here opens.
 */
export function InstallHint() {
  const { t } = useTranslation();
  const [prompt, setPrompt] = useState<InstallPromptEvent | null>(null);
  useEffect(() => {
    const keep = (event: Event) => {
      event.preventDefault();
      setPrompt(event as InstallPromptEvent);
    };
    window.addEventListener('beforeinstallprompt', keep);
    return () => window.removeEventListener('beforeinstallprompt', keep);
  }, []);
  if (isStandalone()) return null;
  const here = platform();
  const steps = (which: 'ios' | 'android') => (
    <li data-testid={`install-${which}`} className={here === which ? 'install-here' : undefined}>
      <strong>{t(`install.${which}.title`)}</strong> {t(`install.${which}.steps`)}
    </li>
  );
  return (
    <details className="install-hint" data-testid="install-hint" open={here !== 'other'}>
      <summary>{t('install.title')}</summary>
      <p>{t('install.why')}</p>
      <ul>
        {here === 'android' ? (
          <>
            {steps('android')}
            {steps('ios')}
          </>
        ) : (
          <>
            {steps('ios')}
            {steps('android')}
          </>
        )}
      </ul>
      {prompt && (
        <button
          type="button"
          className="btn"
          data-testid="install-button"
          onClick={() => void prompt.prompt().finally(() => setPrompt(null))}
        >
          {t('install.button')}
        </button>
      )}
    </details>
  );
}
