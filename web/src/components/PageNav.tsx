import { useTranslation } from 'react-i18next';
import type { Me } from '../api/auth.js';
import { navigate, PAGE_PATHS, type Page, pagesFor } from '../routing/router.js';

/** Links to the other pages of this person's role; nothing for someone with one page. */
export function PageNav({ me, current }: { me: Me; current: Page }) {
  const { t } = useTranslation();
  const others = pagesFor(me).filter((page) => page !== current);
  if (others.length === 0) return null;
  return (
    <nav className="page-nav" aria-label={t('nav.label')}>
      {others.map((page) => (
        <a
          key={page}
          href={PAGE_PATHS[page]}
          className="btn btn-quiet btn-link"
          data-testid={`nav-${page}`}
          onClick={(event) => {
            event.preventDefault();
            navigate(PAGE_PATHS[page]);
          }}
        >
          {t(`nav.${page}`)}
        </a>
      ))}
    </nav>
  );
}
