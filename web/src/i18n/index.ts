import i18n from 'i18next';
import { initReactI18next } from 'react-i18next';
import en from './en.json';
import nb from './nb.json';

export const LANGUAGES = ['nb', 'en'] as const;
export type Language = (typeof LANGUAGES)[number];

// English must carry every key Norwegian has; this line fails to compile otherwise.
const english: typeof nb = en;

declare module 'i18next' {
  interface CustomTypeOptions {
    defaultNS: 'translation';
    resources: { translation: typeof nb };
  }
}

const STORAGE_KEY = 'nattevakt.language';

function storedLanguage(): Language {
  try {
    const stored = localStorage.getItem(STORAGE_KEY);
    return LANGUAGES.find((language) => language === stored) ?? 'nb';
  } catch {
    return 'nb';
  }
}

export function setLanguage(language: Language): void {
  try {
    localStorage.setItem(STORAGE_KEY, language);
  } catch {
    // Not remembered across reloads; the switch still works now.
  }
  void i18n.changeLanguage(language);
}

export function currentLanguage(): Language {
  return LANGUAGES.find((language) => language === i18n.resolvedLanguage) ?? 'nb';
}

i18n.on('languageChanged', (language) => {
  document.documentElement.lang = language;
});

// Resources are bundled, so initialisation completes synchronously before the first render.
void i18n.use(initReactI18next).init({
  resources: { nb: { translation: nb }, en: { translation: english } },
  lng: storedLanguage(),
  fallbackLng: 'nb',
  supportedLngs: [...LANGUAGES],
  interpolation: { escapeValue: false },
});

export default i18n;
