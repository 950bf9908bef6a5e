import type { TechnicalDeadlineContext, TechnicalRule } from '../types.js';

/** A minute, the window in which changes are counted and the calm that clears the alarm. */
export const FLAPPING_WINDOW_MS = 60_000;

/** While the alarm is open: it clears a minute after the last change, with that change as evidence. */
function calm(ctx: Pick<TechnicalDeadlineContext, 'state'>): { at: number; eventId: string } | null {
  const last = ctx.state.changes.at(-1);
  return ctx.state.open.has('flapping') && last !== undefined ? { at: last.at + FLAPPING_WINDOW_MS, eventId: last.eventId } : null;
}

/**
 * Too many state changes per minute: a door contact that chatters (magnet loose, door bouncing) or
 * a bed mat that misreads. Its alarms cannot be trusted, and each change may wake someone. Raised
 * when the sensor changes state more than `flappingChangesPerMinute` times within one minute;
 * cleared after a whole minute without a change.
 */
export const flapping: TechnicalRule = {
  id: 'flapping',
  onEvent() {},
  onTick(ctx) {
    const quiet = calm(ctx);
    if (quiet !== null) {
      if (ctx.now >= quiet.at) ctx.clear('flapping', quiet.eventId);
      return;
    }
    // Counted before anything is allocated: this runs for every event of every door and bed sensor.
    const { changes } = ctx.state;
    const after = ctx.now - FLAPPING_WINDOW_MS;
    let count = 0;
    for (let i = 0; i < changes.length; i++) if ((changes[i] as { at: number }).at > after) count++;
    if (count === 0 || count <= ctx.settings.flappingChangesPerMinute) return;
    const recent = changes.filter((c) => c.at > after);
    const first = recent[0];
    if (first === undefined) return;
    ctx.raise('flapping', {
      since: first.at,
      eventIds: recent.map((c) => c.eventId),
      evidence: { setting: { changesPerMinute: ctx.settings.flappingChangesPerMinute }, value: recent.length },
    });
  },
  deadline: (ctx) => calm(ctx)?.at ?? null,
};
