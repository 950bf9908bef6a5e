import { useCallback, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { InstallationPanel } from '../admin/InstallationPanel.js';
import { LegalPanel } from '../admin/LegalPanel.js';
import { RelativesPanel } from '../admin/RelativesPanel.js';
import { ReportsPanel } from '../admin/ReportsPanel.js';
import { ResidentsPanel } from '../admin/ResidentsPanel.js';
import { UsersPanel } from '../admin/UsersPanel.js';
import {
  fetchResidents,
  fetchRooms,
  fetchSensors,
  fetchSites,
  type ResidentView,
  type Room,
  type Sensor,
  type SiteSummary,
} from '../api/admin.js';
import type { Me } from '../api/auth.js';
import { LanguageToggle } from '../components/LanguageToggle.js';
import { PageNav } from '../components/PageNav.js';

type Tab = 'residents' | 'legal' | 'relatives' | 'installation' | 'users' | 'reports';
const TABS: Tab[] = ['residents', 'legal', 'relatives', 'installation', 'users', 'reports'];

interface SiteData {
  rooms: Room[];
  sensors: Sensor[];
  residents: ResidentView[];
}

/** Admin and nurse in charge: residents and plans, legal basis and evaluations, rooms and sensors, reports. */
export function AdminPage({ me, onLogout }: { me: Me; onLogout: () => void }) {
  const { t } = useTranslation();
  const [sites, setSites] = useState<SiteSummary[] | null>(null);
  const [siteId, setSiteId] = useState<string | null>(null);
  const [data, setData] = useState<SiteData | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tab, setTab] = useState<Tab>('residents');

  useEffect(() => {
    fetchSites().then(
      (list) => {
        setSites(list);
        setSiteId((current) => current ?? list[0]?.id ?? null);
      },
      (failure: unknown) => setError(String(failure)),
    );
  }, []);
  const reload = useCallback(() => {
    if (siteId === null) return;
    Promise.all([fetchRooms(siteId), fetchSensors(siteId), fetchResidents(siteId)]).then(
      ([rooms, sensors, residents]) => {
        setData({ rooms, sensors, residents });
        setError(null);
      },
      (failure: unknown) => setError(failure instanceof Error ? failure.message : String(failure)),
    );
  }, [siteId]);
  useEffect(reload, [reload]);

  const canEditCare = me.role === 'admin' || me.role === 'nurse_in_charge';
  const canInstall = me.role === 'admin';
  const site = sites?.find((s) => s.id === siteId);

  return (
    <div className="admin" data-testid="admin-page">
      <header className="site-header">
        <div className="site-identity">
          <h1 className="site-name">{site?.name ?? t('app.name')}</h1>
          <div className="site-clock">{t('admin.title')}</div>
        </div>
        <div className="site-actions">
          {sites && sites.length > 1 && (
            <select
              value={siteId ?? ''}
              onChange={(event) => setSiteId(event.target.value)}
              aria-label={t('admin.site')}
              data-testid="admin-site"
            >
              {sites.map((s) => (
                <option key={s.id} value={s.id}>
                  {s.name}
                </option>
              ))}
            </select>
          )}
          <PageNav me={me} current="admin" />
          <LanguageToggle />
          <button type="button" className="btn btn-quiet" onClick={onLogout} data-testid="logout">
            {t('start.logout')}
          </button>
        </div>
      </header>
      <main className="admin-main">
        <nav className="tabs" aria-label={t('admin.title')}>
          {TABS.map((name) => (
            <button
              key={name}
              type="button"
              className="btn"
              aria-current={tab === name ? 'page' : undefined}
              data-testid={`tab-${name}`}
              onClick={() => setTab(name)}
            >
              {t(`admin.tabs.${name}`)}
            </button>
          ))}
        </nav>
        {error && (
          <p className="field-error" role="alert">
            {t('admin.failed', { error })}
          </p>
        )}
        {sites !== null && sites.length === 0 && <p>{t('admin.noSite')}</p>}
        {siteId !== null && data !== null && (
          <>
            {tab === 'residents' && (
              <ResidentsPanel siteId={siteId} residents={data.residents} rooms={data.rooms} canEdit={canEditCare} reload={reload} />
            )}
            {tab === 'legal' && <LegalPanel siteId={siteId} residents={data.residents} reload={reload} timeZone={site?.timezone} />}
            {tab === 'installation' && (
              <InstallationPanel
                siteId={siteId}
                rooms={data.rooms}
                sensors={data.sensors}
                residents={data.residents}
                canEdit={canInstall}
                reload={reload}
              />
            )}
            {tab === 'relatives' && <RelativesPanel siteId={siteId} residents={data.residents} timeZone={site?.timezone} />}
            {tab === 'users' && <UsersPanel sites={sites ?? []} canEdit={me.role === 'admin'} timeZone={site?.timezone} />}
            {tab === 'reports' && <ReportsPanel siteId={siteId} timeZone={site?.timezone} />}
          </>
        )}
      </main>
    </div>
  );
}
