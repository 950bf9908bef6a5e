import type { CarePriority, SupervisionPlan } from '@nattevakt/protocol/site-config';
import type { PlanBody } from '../api/admin.js';

/**
 * The plan editor's form: every value as typed (strings), so a person can type freely, and a
 * check on every keystroke that mirrors the protocol's schema (SupervisionPlan) and names the
 * field at fault. The server checks again on save.
 */
export interface PlanForm {
  nightStart: string;
  nightEnd: string;
  doorOpenAtNight: { enabled: boolean; priority: CarePriority };
  outOfBedTooLong: { enabled: boolean; minutes: string; priority: CarePriority };
  bedExit: { enabled: boolean; delaySeconds: string; priority: CarePriority };
  doorLeftOpen: { enabled: boolean; minutes: string; priority: CarePriority };
  notInBedBy: { enabled: boolean; time: string; priority: CarePriority };
  bedGraceSeconds: string;
  silentMinutes: string;
}

export type PlanField =
  | 'nightStart'
  | 'nightEnd'
  | 'outOfBedTooLong.minutes'
  | 'bedExit.delaySeconds'
  | 'doorLeftOpen.minutes'
  | 'notInBedBy.time'
  | 'bedGraceSeconds'
  | 'silentMinutes';

/** What is wrong with a field: an i18n key under `plan.error.` and its values. */
export interface FieldError {
  key: 'time' | 'integer' | 'range' | 'sameTimes' | 'required';
  min?: number;
  max?: number;
}

const care = (priority: string): CarePriority => (priority === 'high' || priority === 'medium' || priority === 'low' ? priority : 'medium');

export function formFromPlan(plan: SupervisionPlan): PlanForm {
  const r = plan.rules;
  return {
    nightStart: plan.nightWindow.start,
    nightEnd: plan.nightWindow.end,
    doorOpenAtNight: { enabled: r.doorOpenAtNight.enabled, priority: care(r.doorOpenAtNight.priority) },
    outOfBedTooLong: {
      enabled: r.outOfBedTooLong.enabled,
      minutes: String(r.outOfBedTooLong.minutes),
      priority: care(r.outOfBedTooLong.priority),
    },
    bedExit: {
      enabled: r.bedExit?.enabled ?? false,
      delaySeconds: String(r.bedExit?.delaySeconds ?? 0),
      priority: r.bedExit?.priority ?? 'high',
    },
    doorLeftOpen: {
      enabled: r.doorLeftOpen?.enabled ?? false,
      minutes: String(r.doorLeftOpen?.minutes ?? 10),
      priority: r.doorLeftOpen?.priority ?? 'medium',
    },
    notInBedBy: { enabled: r.notInBedBy?.enabled ?? false, time: r.notInBedBy?.time ?? '23:30', priority: r.notInBedBy?.priority ?? 'low' },
    bedGraceSeconds: plan.bedGraceSeconds === undefined ? '' : String(plan.bedGraceSeconds),
    silentMinutes: plan.technical?.silentMinutes === undefined ? '' : String(plan.technical.silentMinutes),
  };
}

const TIME = /^([01]\d|2[0-3]):[0-5]\d$/;

function integer(value: string, min: number, max: number, optional = false): { value?: number; error?: FieldError } {
  const trimmed = value.trim();
  if (trimmed === '') return optional ? {} : { error: { key: 'required' } };
  if (!/^-?\d+$/.test(trimmed)) return { error: { key: 'integer' } };
  const n = Number(trimmed);
  if (n < min || n > max) return { error: { key: 'range', min, max } };
  return { value: n };
}

/**
 * The plan the form describes, or the errors by field. A disabled rule's settings are not
 * checked (they are kept as they were, so switching it on again brings them back).
 */
export function planFromForm(
  form: PlanForm,
  previous: SupervisionPlan,
): { plan: PlanBody | null; errors: Partial<Record<PlanField, FieldError>> } {
  const errors: Partial<Record<PlanField, FieldError>> = {};
  if (!TIME.test(form.nightStart)) errors.nightStart = { key: 'time' };
  if (!TIME.test(form.nightEnd)) errors.nightEnd = { key: 'time' };
  if (!errors.nightStart && !errors.nightEnd && form.nightStart === form.nightEnd) errors.nightEnd = { key: 'sameTimes' };
  const outMinutes = integer(form.outOfBedTooLong.minutes, 1, 720);
  if (form.outOfBedTooLong.enabled && outMinutes.error) errors['outOfBedTooLong.minutes'] = outMinutes.error;
  const delay = integer(form.bedExit.delaySeconds, 0, 600);
  if (form.bedExit.enabled && delay.error) errors['bedExit.delaySeconds'] = delay.error;
  const doorMinutes = integer(form.doorLeftOpen.minutes, 1, 720);
  if (form.doorLeftOpen.enabled && doorMinutes.error) errors['doorLeftOpen.minutes'] = doorMinutes.error;
  if (form.notInBedBy.enabled && !TIME.test(form.notInBedBy.time)) errors['notInBedBy.time'] = { key: 'time' };
  const grace = integer(form.bedGraceSeconds, 0, 300, true);
  if (grace.error) errors.bedGraceSeconds = grace.error;
  const silent = integer(form.silentMinutes, 1, 1500, true);
  if (silent.error) errors.silentMinutes = silent.error;
  if (Object.keys(errors).length > 0) return { plan: null, errors };

  const old = previous.rules;
  const technical = { ...(previous.technical ?? {}) };
  if (silent.value === undefined) delete technical.silentMinutes;
  else technical.silentMinutes = silent.value;
  const plan: PlanBody = {
    nightWindow: { start: form.nightStart, end: form.nightEnd },
    rules: {
      doorOpenAtNight: { enabled: form.doorOpenAtNight.enabled, priority: form.doorOpenAtNight.priority },
      outOfBedTooLong: {
        enabled: form.outOfBedTooLong.enabled,
        minutes: outMinutes.value ?? old.outOfBedTooLong.minutes,
        priority: form.outOfBedTooLong.priority,
      },
      bedExit: {
        enabled: form.bedExit.enabled,
        delaySeconds: delay.value ?? old.bedExit?.delaySeconds ?? 0,
        priority: form.bedExit.priority,
      },
      doorLeftOpen: {
        enabled: form.doorLeftOpen.enabled,
        minutes: doorMinutes.value ?? old.doorLeftOpen?.minutes ?? 10,
        priority: form.doorLeftOpen.priority,
      },
      notInBedBy: {
        enabled: form.notInBedBy.enabled,
        time: TIME.test(form.notInBedBy.time) ? form.notInBedBy.time : (old.notInBedBy?.time ?? '23:30'),
        priority: form.notInBedBy.priority,
      },
    },
  };
  if (grace.value !== undefined) plan.bedGraceSeconds = grace.value;
  if (Object.keys(technical).length > 0) plan.technical = technical;
  return { plan, errors };
}
