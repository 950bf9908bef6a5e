import { type FormEvent, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { checkLocalFeedSettings, loadLocalFeedSettings, saveLocalFeedSettings } from '../api/local-feed.js';

/**
 * Where this tablet finds the gateway's local alarm feed when the server is gone. Set once per
 * tablet, by the technician (or by opening the setup link the gateway's operator hands out).
 */
export function LocalFeedSettingsForm() {
  const { t } = useTranslation();
  const [saved, setSaved] = useState(loadLocalFeedSettings);
  const [url, setUrl] = useState(saved?.url ?? '');
  const [token, setToken] = useState('');
  const [error, setError] = useState<'url' | 'token' | null>(null);

  const save = (event: FormEvent) => {
    event.preventDefault();
    const problem = checkLocalFeedSettings(url.trim(), token.trim());
    setError(problem);
    if (problem) return;
    saveLocalFeedSettings({ url: url.trim(), token: token.trim() });
    setSaved(loadLocalFeedSettings());
    setToken('');
  };
  const remove = () => {
    saveLocalFeedSettings(null);
    setSaved(null);
  };

  return (
    <details className="feed-settings" data-testid="feed-settings">
      <summary>{saved ? t('fallback.settings.titleSet') : t('fallback.settings.titleUnset')}</summary>
      <p className="start-hint">{t('fallback.settings.why')}</p>
      {saved && (
        <p data-testid="feed-configured">
          {t('fallback.settings.current', { url: saved.url })}{' '}
          <button type="button" className="btn btn-quiet" onClick={remove} data-testid="feed-remove">
            {t('fallback.settings.remove')}
          </button>
        </p>
      )}
      <form onSubmit={save} noValidate className="feed-form">
        <label className="field">
          <span>{t('fallback.settings.url')}</span>
          <input
            data-testid="feed-url"
            inputMode="url"
            autoCapitalize="none"
            placeholder="http://192.168.1.20:9101"
            value={url}
            aria-invalid={error === 'url'}
            onChange={(event) => setUrl(event.target.value)}
          />
        </label>
        {error === 'url' && (
          <p className="field-error" role="alert">
            {t('fallback.settings.badUrl')}
          </p>
        )}
        <label className="field">
          <span>{t('fallback.settings.token')}</span>
          <input
            data-testid="feed-token"
            type="password"
            autoComplete="off"
            value={token}
            aria-invalid={error === 'token'}
            onChange={(event) => setToken(event.target.value)}
          />
        </label>
        {error === 'token' && (
          <p className="field-error" role="alert">
            {t('fallback.settings.badToken')}
          </p>
        )}
        <button type="submit" className="btn" data-testid="feed-save">
          {t('fallback.settings.save')}
        </button>
      </form>
    </details>
  );
}
