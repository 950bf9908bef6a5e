import type { SensorKind } from '@nattevakt/protocol/site-config';
import { type FormEvent, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { createRoom, createSensor, type ResidentView, type Room, type Sensor } from '../api/admin.js';
import { NamedSelect } from './NamedSelect.js';
import { useSaveMessage } from './use-save-message.js';

/** Rooms and sensors of the site; adding them is the administrator's (the server checks the role again). */
export function InstallationPanel(props: {
  siteId: string;
  rooms: Room[];
  sensors: Sensor[];
  residents: ResidentView[];
  canEdit: boolean;
  reload: () => void;
}) {
  const { t } = useTranslation();
  const { siteId, rooms, sensors, residents, canEdit, reload } = props;
  const [roomName, setRoomName] = useState('');
  const [sensor, setSensor] = useState<{ id: string; kind: SensorKind; roomId: string; residentId: string }>({
    id: '',
    kind: 'bed',
    roomId: '',
    residentId: '',
  });
  const [message, save] = useSaveMessage();
  const done = (action: Promise<unknown>, reset: () => void) =>
    save(action, () => {
      reset();
      reload();
    });
  const addRoom = (event: FormEvent) => {
    event.preventDefault();
    done(createRoom(siteId, { name: roomName.trim() }), () => setRoomName(''));
  };
  const addSensor = (event: FormEvent) => {
    event.preventDefault();
    const body: Sensor = { id: sensor.id.trim(), kind: sensor.kind, roomId: sensor.roomId };
    if (sensor.residentId) body.residentId = sensor.residentId;
    done(createSensor(siteId, body), () => setSensor((s) => ({ ...s, id: '' })));
  };
  const roomName_ = (id: string) => rooms.find((room) => room.id === id)?.name ?? id;

  return (
    <section className="panel" data-testid="installation">
      {!canEdit && <p className="muted">{t('admin.installOnlyAdmin')}</p>}
      {message && (
        <p className={message.ok ? 'success-text' : 'field-error'} role="status">
          {message.text}
        </p>
      )}
      <h2>{t('admin.rooms', { count: rooms.length })}</h2>
      <ul>
        {rooms.map((room) => (
          <li key={room.id}>
            {room.name} <span className="muted">({room.id})</span>
          </li>
        ))}
      </ul>
      {canEdit && (
        <form className="form-grid" onSubmit={addRoom}>
          <label className="field">
            <span>{t('admin.roomName')}</span>
            <input required maxLength={60} value={roomName} onChange={(event) => setRoomName(event.target.value)} />
          </label>
          <div className="save-row">
            <button type="submit" className="btn">
              {t('admin.addRoom')}
            </button>
          </div>
        </form>
      )}
      <h2>{t('admin.sensors', { count: sensors.length })}</h2>
      <div className="table-scroll">
        <table className="data-table">
          <thead>
            <tr>
              <th scope="col">{t('admin.sensorId')}</th>
              <th scope="col">{t('admin.sensorKind')}</th>
              <th scope="col">{t('admin.sensorRoom')}</th>
              <th scope="col">{t('admin.resident')}</th>
            </tr>
          </thead>
          <tbody>
            {sensors.map((s) => (
              <tr key={s.id}>
                <th scope="row">{s.id}</th>
                <td>{t(`sensor.${s.kind}`)}</td>
                <td>{roomName_(s.roomId)}</td>
                <td>{residents.find((r) => r.id === s.residentId)?.name ?? '–'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {canEdit && (
        <form className="form-grid" onSubmit={addSensor}>
          <label className="field">
            <span>{t('admin.sensorId')}</span>
            <input
              required
              pattern="[A-Za-z0-9][A-Za-z0-9._-]*"
              maxLength={64}
              value={sensor.id}
              onChange={(event) => setSensor((s) => ({ ...s, id: event.target.value }))}
            />
          </label>
          <label className="field">
            <span>{t('admin.sensorKind')}</span>
            <select value={sensor.kind} onChange={(event) => setSensor((s) => ({ ...s, kind: event.target.value as SensorKind }))}>
              <option value="bed">{t('sensor.bed')}</option>
              <option value="door">{t('sensor.door')}</option>
            </select>
          </label>
          <NamedSelect
            label={t('admin.sensorRoom')}
            required
            value={sensor.roomId}
            onChange={(roomId) => setSensor((s) => ({ ...s, roomId }))}
            options={rooms}
          />
          <NamedSelect
            label={t('admin.sensorResident')}
            value={sensor.residentId}
            onChange={(residentId) => setSensor((s) => ({ ...s, residentId }))}
            options={residents}
          />
          <div className="save-row">
            <button type="submit" className="btn">
              {t('admin.addSensor')}
            </button>
          </div>
        </form>
      )}
    </section>
  );
}
