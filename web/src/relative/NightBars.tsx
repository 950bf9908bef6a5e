/**
 * A bar per night, as hand-written SVG. Fourteen bars in three small charts do not need a chart
 * library: this is a few dozen lines, weighs nothing in the bundle, follows the page's theme
 * through CSS, and carries its own accessible name and a table for screen readers. (Recharts
 * 3, the obvious candidate for React 19, brings d3 modules and ~100 kB gzip for the same bars.)
 */
export interface Bar {
  /** Short label under the bar, e.g. "24". */
  label: string;
  /** Long label for the screen-reader table, e.g. "tirsdag 24. november". */
  longLabel: string;
  /** null: no data that night (drawn as a dash, never as zero). */
  value: number | null;
}

interface Props {
  title: string;
  bars: readonly Bar[];
  /** How a value reads in words and on the axis, e.g. minutes → "7 t 30 min". */
  format: (value: number) => string;
  /** The first column's heading in the table ("Natt"). */
  nightHeading: string;
  noData: string;
  testId: string;
  /** Smallest top of the scale, so a quiet fortnight does not look dramatic. */
  minMax?: number;
}

const WIDTH = 340;
const HEIGHT = 120;
const TOP = 14;
const BOTTOM = 20;
const LEFT = 4;

export function NightBars({ title, bars, format, nightHeading, noData, testId, minMax = 1 }: Props) {
  const values = bars.map((bar) => bar.value).filter((value): value is number => value !== null);
  const max = Math.max(minMax, ...values);
  const slot = (WIDTH - LEFT) / Math.max(1, bars.length);
  const barWidth = Math.max(4, slot * 0.62);
  const plot = HEIGHT - TOP - BOTTOM;
  const last = bars.at(-1);

  return (
    <figure className="night-bars" data-testid={testId}>
      <figcaption>
        <span className="night-bars-title">{title}</span>
        {last && <span className="night-bars-last">{last.value === null ? noData : format(last.value)}</span>}
      </figcaption>
      <svg
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        role="img"
        aria-label={`${title}: ${bars.map((b) => `${b.longLabel} ${b.value === null ? noData : format(b.value)}`).join(', ')}`}
      >
        <line x1={LEFT} x2={WIDTH} y1={TOP + plot} y2={TOP + plot} className="axis" />
        <line x1={LEFT} x2={WIDTH} y1={TOP} y2={TOP} className="grid" />
        <text x={WIDTH} y={TOP - 4} textAnchor="end" className="scale">
          {format(max)}
        </text>
        {bars.map((bar, i) => {
          const x = LEFT + i * slot + (slot - barWidth) / 2;
          const isLast = i === bars.length - 1;
          if (bar.value === null)
            return (
              <g key={bar.longLabel} data-value="none">
                <line x1={x} x2={x + barWidth} y1={TOP + plot - 3} y2={TOP + plot - 3} className="no-data" />
                {(i % 2 === bars.length % 2 || isLast) && (
                  <text x={x + barWidth / 2} y={HEIGHT - 5} textAnchor="middle" className="day">
                    {bar.label}
                  </text>
                )}
              </g>
            );
          const h = max === 0 ? 0 : (bar.value / max) * plot;
          return (
            <g key={bar.longLabel} data-value={bar.value}>
              <rect
                x={x}
                y={TOP + plot - Math.max(h, bar.value > 0 ? 2 : 0)}
                width={barWidth}
                height={Math.max(h, bar.value > 0 ? 2 : 0)}
                rx={2}
                className={isLast ? 'bar bar-last' : 'bar'}
              />
              {(i % 2 === bars.length % 2 || isLast) && (
                <text x={x + barWidth / 2} y={HEIGHT - 5} textAnchor="middle" className={isLast ? 'day day-last' : 'day'}>
                  {bar.label}
                </text>
              )}
            </g>
          );
        })}
      </svg>
      {/* Hidden by a wrapper, not on the table: a table is never narrower than its contents, so a
          "1px" table still widened the page (477px on a 390px phone, test roles.browser). */}
      <div className="visually-hidden">
        <table>
          <caption>{title}</caption>
          <thead>
            <tr>
              <th scope="col">{nightHeading}</th>
              <th scope="col">{title}</th>
            </tr>
          </thead>
          <tbody>
            {bars.map((bar) => (
              <tr key={bar.longLabel}>
                <th scope="row">{bar.longLabel}</th>
                <td>{bar.value === null ? noData : format(bar.value)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </figure>
  );
}
