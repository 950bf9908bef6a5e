import { type FormEvent, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { createResident, type ResidentView, type Room } from '../api/admin.js';
import { formatDay } from '../time/format.js';
import { NamedSelect } from './NamedSelect.js';
import { PlanEditor } from './PlanEditor.js';
import { useSaveMessage } from './use-save-message.js';

/** Residents with their plan status and legal basis; choosing one opens the plan editor. */
export function ResidentsPanel(props: { siteId: string; residents: ResidentView[]; rooms: Room[]; canEdit: boolean; reload: () => void }) {
  const { t } = useTranslation();
  const { siteId, residents, rooms, canEdit, reload } = props;
  const [chosen, setChosen] = useState<string | null>(null);
  const resident = residents.find((r) => r.id === chosen);
  const roomName = (id: string) => rooms.find((room) => room.id === id)?.name ?? id;

  return (
    <>
      <section className="panel">
        <div className="table-scroll">
          <table className="data-table" data-testid="residents-table">
            <thead>
              <tr>
                <th scope="col">{t('admin.resident')}</th>
                <th scope="col">{t('admin.room')}</th>
                <th scope="col">{t('admin.status')}</th>
                <th scope="col">{t('admin.legal')}</th>
              </tr>
            </thead>
            <tbody>
              {residents.map((r) => (
                <tr key={r.id} className={r.id === chosen ? 'row-selected' : undefined}>
                  <th scope="row">
                    <button
                      type="button"
                      className="btn btn-quiet btn-row"
                      data-testid={`choose-${r.id}`}
                      aria-pressed={r.id === chosen}
                      onClick={() => setChosen(r.id)}
                    >
                      {r.name}
                    </button>
                  </th>
                  <td>{roomName(r.roomId)}</td>
                  <td>
                    {t(`admin.state.${r.status.state}`)}
                    {!r.plan.armed && <span className="badge badge-unarmed"> {t('room.unprotected')}</span>}
                  </td>
                  <td>
                    {t(`admin.legalKind.${r.legalBasis?.kind ?? 'none'}`)}
                    {r.legalBasis?.nextEvaluationOn && (
                      <span className="muted"> · {t('admin.nextEvaluation', { date: formatDay(r.legalBasis.nextEvaluationOn) })}</span>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        {canEdit && <NewResident siteId={siteId} rooms={rooms} onAdded={reload} />}
      </section>
      {resident && <PlanEditor key={resident.id} siteId={siteId} resident={resident} canEdit={canEdit} onSaved={reload} />}
    </>
  );
}

function NewResident({ siteId, rooms, onAdded }: { siteId: string; rooms: Room[]; onAdded: () => void }) {
  const { t } = useTranslation();
  const [name, setName] = useState('');
  const [roomId, setRoomId] = useState('');
  const [message, save] = useSaveMessage();
  const submit = (event: FormEvent) => {
    event.preventDefault();
    save(createResident(siteId, { name: name.trim(), roomId }), () => {
      setName('');
      onAdded();
    });
  };
  return (
    <form className="form-grid" onSubmit={submit}>
      <label className="field">
        <span>{t('admin.residentName')}</span>
        <input required maxLength={120} value={name} onChange={(event) => setName(event.target.value)} data-testid="new-resident-name" />
      </label>
      <NamedSelect label={t('admin.room')} required value={roomId} onChange={setRoomId} options={rooms} testId="new-resident-room" />
      <div className="save-row">
        <button type="submit" className="btn">
          {t('admin.addResident')}
        </button>
        {message && <span className={message.ok ? 'success-text' : 'field-error'}>{message.text}</span>}
      </div>
    </form>
  );
}
