import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { HttpError } from '../api/rest.js';

export interface SaveMessage {
  ok: boolean;
  text: string;
}

/**
 * The outcome of an admin form's save as a message: "saved" after `onSaved` ran, or the server's
 * refusal (its message) when the action fails.
 */
export function useSaveMessage(): [SaveMessage | null, (action: Promise<unknown>, onSaved: () => void) => void] {
  const { t } = useTranslation();
  const [message, setMessage] = useState<SaveMessage | null>(null);
  const save = (action: Promise<unknown>, onSaved: () => void) => {
    void action.then(
      () => {
        onSaved();
        setMessage({ ok: true, text: t('admin.saved') });
      },
      (error: unknown) => setMessage({ ok: false, text: error instanceof HttpError ? error.message : String(error) }),
    );
  };
  return [message, save];
}
