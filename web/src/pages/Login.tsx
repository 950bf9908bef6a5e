import { type FormEvent, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { login, type Me } from '../api/auth.js';
import { LanguageToggle } from '../components/LanguageToggle.js';

/** Shown when there is no session: username and password, Norwegian first. */
export function Login({ onLogin }: { onLogin: (me: Me) => void }) {
  const { t } = useTranslation();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<'wrong' | 'tooMany' | 'failed' | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (busy) return;
    setBusy(true);
    const result = await login(username.trim(), password);
    setBusy(false);
    if (result.ok) {
      setPassword('');
      onLogin(result.user);
    } else setError(result.reason);
  };

  return (
    <div className="start-shift">
      <div className="start-top">
        <LanguageToggle />
      </div>
      <form className="start-card" onSubmit={(event) => void submit(event)} data-testid="login-form">
        <h1>{t('app.name')}</h1>
        <p className="start-site">{t('login.title')}</p>
        <label className="field">
          <span>{t('login.username')}</span>
          <input
            data-testid="login-username"
            name="username"
            autoComplete="username"
            autoCapitalize="none"
            maxLength={100}
            required
            value={username}
            onChange={(event) => {
              setUsername(event.target.value);
              setError(null);
            }}
          />
        </label>
        <label className="field">
          <span>{t('login.password')}</span>
          <input
            data-testid="login-password"
            name="password"
            type="password"
            autoComplete="current-password"
            maxLength={1000}
            required
            value={password}
            onChange={(event) => {
              setPassword(event.target.value);
              setError(null);
            }}
            aria-invalid={error === 'wrong'}
          />
        </label>
        {error && (
          <p className="field-error" role="alert" data-testid="login-error">
            {t(`login.${error}`)}
          </p>
        )}
        <button type="submit" className="btn btn-primary btn-large" data-testid="login-submit" disabled={busy}>
          {t('login.button')}
        </button>
      </form>
    </div>
  );
}
