import { PLAN_DEFAULTS, type SupervisionPlan } from '../site-config.js';
import type { ResidentState } from './types.js';

/** The plan's bed grace in seconds: an unload of the mat shorter than this is turning over or sitting up. */
export const graceSeconds = (plan: SupervisionPlan): number => plan.bedGraceSeconds ?? PLAN_DEFAULTS.bedGraceSeconds;

/** When the current unload of the bed mat started, or null while the bed is occupied or its state unknown. */
export function unloadedSince(state: ResidentState): number | null {
  return state.bed.occupied === false ? state.bed.since : null;
}

/** The event ids that show the current bed or door state: the event that started it, if known. */
export const evidenceOf = (eventId: string | null): string[] => (eventId === null ? [] : [eventId]);
