import { useTranslation } from 'react-i18next';
import { currentLanguage, setLanguage } from '../i18n/index.js';

export function LanguageToggle() {
  const { t } = useTranslation();
  const next = currentLanguage() === 'nb' ? 'en' : 'nb';
  return (
    <button type="button" className="btn btn-quiet" data-testid="language-toggle" lang={next} onClick={() => setLanguage(next)}>
      {t('language.switchTo')}
    </button>
  );
}
