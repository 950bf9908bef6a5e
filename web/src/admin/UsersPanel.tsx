import { type FormEvent, useCallback, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { SiteSummary } from '../api/admin.js';
import type { Role } from '../api/auth.js';
import {
  createUser,
  disableUser,
  enableUser,
  fetchUsers,
  MIN_PASSWORD,
  ROLES,
  resetPassword,
  USERNAME,
  type UserView,
  updateUser,
} from '../api/people.js';
import { HttpError } from '../api/rest.js';
import { formatDateTime } from '../time/format.js';

type Message = { ok: boolean; text: string } | null;
const errorText = (error: unknown) => (error instanceof HttpError ? error.message : String(error));

/**
 * People (server/src/routes/users.ts). An admin lists, creates (role and sites), changes role and
 * sites, disables and enables, and resets passwords; a nurse in charge sees the people of their
 * sites. The server audits every change; a disabled person's sessions end at once.
 */
export function UsersPanel({ sites, canEdit, timeZone }: { sites: SiteSummary[]; canEdit: boolean; timeZone: string | undefined }) {
  const { t } = useTranslation();
  const [users, setUsers] = useState<UserView[] | null>(null);
  const [nextAfter, setNextAfter] = useState<string | null>(null);
  const [failed, setFailed] = useState<string | null>(null);
  const [editing, setEditing] = useState<string | null>(null);
  const [message, setMessage] = useState<Message>(null);

  const load = useCallback(() => {
    fetchUsers().then(
      (page) => {
        setUsers(page.users);
        setNextAfter(page.nextAfter);
        setFailed(null);
      },
      (error: unknown) => setFailed(errorText(error)),
    );
  }, []);
  useEffect(load, [load]);
  const more = () => {
    if (nextAfter === null) return;
    fetchUsers({ after: nextAfter }).then(
      (page) => {
        setUsers((known) => [...(known ?? []), ...page.users]);
        setNextAfter(page.nextAfter);
      },
      (error: unknown) => setFailed(errorText(error)),
    );
  };
  /** A changed user replaces their row; the message says what happened, for everyone and for screen readers. */
  const changed = (user: UserView, text: string) => {
    setUsers((known) => (known ?? []).map((u) => (u.id === user.id ? user : u)));
    setMessage({ ok: true, text });
  };
  const siteName = (id: string) => sites.find((s) => s.id === id)?.name ?? id;

  return (
    <>
      <section className="panel" data-testid="users" aria-labelledby="users-title">
        <h2 id="users-title">{t('people.title')}</h2>
        {!canEdit && <p className="muted">{t('people.readOnly')}</p>}
        {failed && (
          <p className="field-error" role="alert">
            {t('admin.failed', { error: failed })}
          </p>
        )}
        <p className="status-line" role="status" data-testid="users-message">
          {message && <span className={message.ok ? 'success-text' : 'field-error'}>{message.text}</span>}
        </p>
        {users !== null && (
          <div className="table-scroll">
            <table className="data-table stack-on-phone" data-testid="users-table">
              <caption className="visually-hidden">{t('people.title')}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('people.name')}</th>
                  <th scope="col">{t('people.role')}</th>
                  <th scope="col">{t('people.sites')}</th>
                  <th scope="col">{t('people.status')}</th>
                  {canEdit && <th scope="col">{t('people.actions')}</th>}
                </tr>
              </thead>
              <tbody>
                {users.map((user) => (
                  <tr key={user.id} data-testid={`user-${user.username}`} className={user.disabledAt ? 'row-disabled' : undefined}>
                    <th scope="row">
                      {user.displayName}
                      <span className="muted"> · {user.username}</span>
                    </th>
                    <td data-label={t('people.role')}>{t(`people.roles.${user.role}`)}</td>
                    <td data-label={t('people.sites')}>
                      {user.role === 'relative' ? t('people.viaLinks') : user.sites.map(siteName).join(', ') || '–'}
                    </td>
                    <td data-label={t('people.status')}>
                      {user.disabledAt
                        ? t('people.disabledSince', { when: formatDateTime(user.disabledAt, timeZone) })
                        : t('people.active')}
                    </td>
                    {canEdit && (
                      <td>
                        <button
                          type="button"
                          className="btn btn-quiet"
                          aria-expanded={editing === user.id}
                          aria-controls={`user-edit-${user.id}`}
                          data-testid={`edit-${user.username}`}
                          onClick={() => setEditing((current) => (current === user.id ? null : user.id))}
                        >
                          {t('people.edit', { name: user.displayName })}
                        </button>
                      </td>
                    )}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        {nextAfter !== null && (
          <button type="button" className="btn" onClick={more}>
            {t('people.more')}
          </button>
        )}
      </section>
      {canEdit && editing !== null && users?.some((u) => u.id === editing) && (
        <UserEditor
          key={editing}
          user={users.find((u) => u.id === editing) as UserView}
          sites={sites}
          onChanged={changed}
          onClose={() => setEditing(null)}
        />
      )}
      {canEdit && (
        <NewUser
          sites={sites}
          onCreated={(user) => {
            setUsers((known) => [...(known ?? []), user].sort((a, b) => a.username.localeCompare(b.username)));
            setMessage({ ok: true, text: t('people.created', { name: user.displayName }) });
          }}
        />
      )}
    </>
  );
}

/** Sites as checkboxes in a fieldset; a relative has none (they are linked to residents instead). */
function SitePicker({
  sites,
  chosen,
  onChange,
  testId,
}: {
  sites: SiteSummary[];
  chosen: string[];
  onChange: (sites: string[]) => void;
  testId: string;
}) {
  const { t } = useTranslation();
  return (
    <fieldset className="field checkbox-group" data-testid={testId}>
      <legend>{t('people.sites')}</legend>
      {sites.map((site) => (
        <label key={site.id} className="checkbox">
          <input
            type="checkbox"
            checked={chosen.includes(site.id)}
            onChange={(event) => onChange(event.target.checked ? [...chosen, site.id] : chosen.filter((id) => id !== site.id))}
          />
          {site.name}
        </label>
      ))}
    </fieldset>
  );
}

function RolePicker({ value, onChange, testId }: { value: Role; onChange: (role: Role) => void; testId: string }) {
  const { t } = useTranslation();
  return (
    <label className="field">
      <span>{t('people.role')}</span>
      <select value={value} data-testid={testId} onChange={(event) => onChange(event.target.value as Role)}>
        {ROLES.map((role) => (
          <option key={role} value={role}>
            {t(`people.roles.${role}`)}
          </option>
        ))}
      </select>
    </label>
  );
}

function UserEditor({
  user,
  sites,
  onChanged,
  onClose,
}: {
  user: UserView;
  sites: SiteSummary[];
  onChanged: (user: UserView, text: string) => void;
  onClose: () => void;
}) {
  const { t } = useTranslation();
  const [displayName, setDisplayName] = useState(user.displayName);
  const [role, setRole] = useState<Role>(user.role);
  const [chosenSites, setChosenSites] = useState(user.sites);
  const [password, setPassword] = useState('');
  const [confirmDisable, setConfirmDisable] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const run = (action: Promise<UserView>, text: (u: UserView) => string) => {
    setBusy(true);
    setError(null);
    action
      .then(
        (changed) => onChanged(changed, text(changed)),
        (failure: unknown) => setError(errorText(failure)),
      )
      .finally(() => setBusy(false));
  };
  const save = (event: FormEvent) => {
    event.preventDefault();
    const body: { displayName?: string; role?: Role; sites?: string[] } = {};
    if (displayName.trim() !== user.displayName) body.displayName = displayName.trim();
    if (role !== user.role) body.role = role;
    const sitesNow = role === 'relative' ? [] : chosenSites;
    if ([...sitesNow].sort().join() !== [...user.sites].sort().join()) body.sites = sitesNow;
    if (Object.keys(body).length === 0) return;
    run(updateUser(user.id, body), (u) => t('people.saved', { name: u.displayName }));
  };
  const passwordShort = password.length > 0 && password.length < MIN_PASSWORD;

  return (
    <section className="panel" id={`user-edit-${user.id}`} data-testid="user-editor" aria-labelledby="user-edit-title">
      <h3 id="user-edit-title">{t('people.editTitle', { name: user.displayName, username: user.username })}</h3>
      <form className="form-grid" onSubmit={save}>
        <label className="field">
          <span>{t('people.displayName')}</span>
          <input
            value={displayName}
            maxLength={120}
            onChange={(event) => setDisplayName(event.target.value)}
            data-testid="edit-displayName"
          />
        </label>
        <RolePicker value={role} onChange={setRole} testId="edit-role" />
        {role !== 'relative' && <SitePicker sites={sites} chosen={chosenSites} onChange={setChosenSites} testId="edit-sites" />}
        <div className="save-row">
          <button type="submit" className="btn btn-primary" disabled={busy || !displayName.trim()} data-testid="edit-save">
            {t('people.save')}
          </button>
          <button type="button" className="btn btn-quiet" onClick={onClose}>
            {t('people.close')}
          </button>
        </div>
      </form>
      <form
        className="form-grid"
        onSubmit={(event) => {
          event.preventDefault();
          if (password.length >= MIN_PASSWORD)
            run(resetPassword(user.id, password), (u) => {
              setPassword('');
              return t('people.passwordReset', { name: u.displayName });
            });
        }}
      >
        <label className="field">
          <span>{t('people.newPassword')}</span>
          <span className="field-hint" id="reset-hint">
            {t('people.passwordHint', { min: MIN_PASSWORD })}
          </span>
          <input
            type="password"
            autoComplete="new-password"
            value={password}
            aria-invalid={passwordShort}
            aria-describedby="reset-hint"
            onChange={(event) => setPassword(event.target.value)}
            data-testid="reset-password"
          />
        </label>
        <div className="save-row">
          <button type="submit" className="btn" disabled={busy || password.length < MIN_PASSWORD} data-testid="reset-submit">
            {t('people.resetPassword')}
          </button>
        </div>
      </form>
      <div className="save-row">
        {user.disabledAt ? (
          <button
            type="button"
            className="btn"
            disabled={busy}
            onClick={() => run(enableUser(user.id), (u) => t('people.enabled', { name: u.displayName }))}
            data-testid="user-enable"
          >
            {t('people.enable')}
          </button>
        ) : confirmDisable ? (
          <>
            <span className="field-error">{t('people.disableConfirm', { name: user.displayName })}</span>
            <button
              type="button"
              className="btn btn-danger"
              disabled={busy}
              onClick={() => run(disableUser(user.id), (u) => t('people.disabled', { name: u.displayName }))}
              data-testid="user-disable-confirm"
            >
              {t('people.disableYes')}
            </button>
            <button type="button" className="btn btn-quiet" onClick={() => setConfirmDisable(false)}>
              {t('people.cancel')}
            </button>
          </>
        ) : (
          <button type="button" className="btn" onClick={() => setConfirmDisable(true)} data-testid="user-disable">
            {t('people.disable')}
          </button>
        )}
      </div>
      {error && (
        <p className="field-error" role="alert" data-testid="user-error">
          {error}
        </p>
      )}
    </section>
  );
}

function NewUser({ sites, onCreated }: { sites: SiteSummary[]; onCreated: (user: UserView) => void }) {
  const { t } = useTranslation();
  const empty = { username: '', displayName: '', password: '' };
  const [form, setForm] = useState(empty);
  const [role, setRole] = useState<Role>('nurse');
  const [chosenSites, setChosenSites] = useState<string[]>(() => (sites.length === 1 && sites[0] ? [sites[0].id] : []));
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const usernameBad = form.username.length > 0 && !USERNAME.test(form.username);
  const passwordShort = form.password.length > 0 && form.password.length < MIN_PASSWORD;
  const ready = USERNAME.test(form.username) && form.displayName.trim() !== '' && form.password.length >= MIN_PASSWORD;
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!ready) return;
    setBusy(true);
    setError(null);
    createUser({
      username: form.username,
      displayName: form.displayName.trim(),
      role,
      sites: role === 'relative' ? [] : chosenSites,
      password: form.password,
    })
      .then(
        (user) => {
          setForm(empty);
          onCreated(user);
        },
        (failure: unknown) => setError(errorText(failure)),
      )
      .finally(() => setBusy(false));
  };
  const input = (key: keyof typeof empty, extra: { type?: string; invalid?: boolean; hint?: string; autoComplete?: string }) => (
    <label className="field">
      <span>{t(`people.${key}`)}</span>
      {extra.hint && (
        <span className="field-hint" id={`new-${key}-hint`}>
          {extra.hint}
        </span>
      )}
      <input
        type={extra.type ?? 'text'}
        value={form[key]}
        autoComplete={extra.autoComplete ?? 'off'}
        aria-invalid={extra.invalid ?? false}
        aria-describedby={extra.hint ? `new-${key}-hint` : undefined}
        onChange={(event) => setForm((f) => ({ ...f, [key]: event.target.value }))}
        data-testid={`new-${key}`}
      />
    </label>
  );
  return (
    <section className="panel" aria-labelledby="new-user-title">
      <h3 id="new-user-title">{t('people.newTitle')}</h3>
      <form className="form-grid" onSubmit={submit} data-testid="new-user">
        {input('username', { invalid: usernameBad, hint: t('people.usernameHint') })}
        {input('displayName', {})}
        <RolePicker value={role} onChange={setRole} testId="new-role" />
        {role === 'relative' ? (
          <p className="muted">{t('people.relativeNoSites')}</p>
        ) : (
          <SitePicker sites={sites} chosen={chosenSites} onChange={setChosenSites} testId="new-sites" />
        )}
        {input('password', {
          type: 'password',
          invalid: passwordShort,
          hint: t('people.passwordHint', { min: MIN_PASSWORD }),
          autoComplete: 'new-password',
        })}
        <div className="save-row">
          <button type="submit" className="btn btn-primary" disabled={busy || !ready} data-testid="new-user-submit">
            {t('people.create')}
          </button>
        </div>
        {error && (
          <p className="field-error" role="alert" data-testid="new-user-error">
            {error}
          </p>
        )}
      </form>
    </section>
  );
}
