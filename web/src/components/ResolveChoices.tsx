import type { Outcome } from '@nattevakt/protocol/alarm';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';

const QUICK_OUTCOMES = ['assisted', 'back-by-themselves', 'false-alarm'] as const satisfies readonly Outcome[];
const NOTE_MAX = 500;

interface Props {
  busy: boolean;
  onChoose: (outcome: Outcome, note?: string) => void;
  onCancel: () => void;
}

/** How the alarm ended; one tap for the usual outcomes, a note for "Annet". */
export function ResolveChoices({ busy, onChoose, onCancel }: Props) {
  const { t } = useTranslation();
  const [other, setOther] = useState(false);
  const [note, setNote] = useState('');

  return (
    <fieldset className="resolve-choices" disabled={busy}>
      <legend>{t('resolve.question')}</legend>
      <div className="resolve-buttons">
        {QUICK_OUTCOMES.map((outcome) => (
          <button
            key={outcome}
            type="button"
            className="btn btn-outcome"
            data-testid={`outcome-${outcome}`}
            onClick={() => onChoose(outcome)}
          >
            {t(`outcome.${outcome}`)}
          </button>
        ))}
        <button
          type="button"
          className={other ? 'btn btn-outcome btn-selected' : 'btn btn-outcome'}
          data-testid="outcome-other"
          aria-pressed={other}
          onClick={() => setOther(true)}
        >
          {t('outcome.other')}
        </button>
      </div>
      {other && (
        <div className="resolve-note">
          <label>
            {t('resolve.noteLabel')}
            <textarea
              data-testid="outcome-note"
              maxLength={NOTE_MAX}
              rows={2}
              value={note}
              onChange={(event) => setNote(event.target.value)}
            />
          </label>
          <button
            type="button"
            className="btn btn-primary"
            data-testid="outcome-other-confirm"
            onClick={() => onChoose('other', note.trim() || undefined)}
          >
            {t('resolve.save')}
          </button>
        </div>
      )}
      <button type="button" className="btn btn-quiet" data-testid="resolve-cancel" onClick={onCancel}>
        {t('resolve.cancel')}
      </button>
    </fieldset>
  );
}
