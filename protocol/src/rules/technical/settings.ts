import { PLAN_DEFAULTS, type Resident, type SensorConfig, type SupervisionPlan } from '../../site-config.js';
import type { ResolvedTechnicalSettings } from '../types.js';

/**
 * The default silence limit of a sensor for one resident, by risk: a wanderer's door sensor must
 * be known to work within minutes, a fall-risk resident's bed mat within the hour.
 */
export function silentMinutesByRisk(kind: SensorConfig['kind'], plan: SupervisionPlan): number {
  const { rules } = plan;
  if (!plan.armed) return PLAN_DEFAULTS.silentMinutes.other;
  if (kind === 'door' && (rules.doorOpenAtNight.enabled || rules.doorLeftOpen?.enabled)) return PLAN_DEFAULTS.silentMinutes.wanderingDoor;
  if (kind === 'bed' && (rules.outOfBedTooLong.enabled || rules.bedExit?.enabled || rules.notInBedBy?.enabled))
    return PLAN_DEFAULTS.silentMinutes.fallRiskBed;
  return PLAN_DEFAULTS.silentMinutes.other;
}

/**
 * The technical thresholds of a sensor, from the plans of the residents it watches. A sensor shared
 * by a double room takes the strictest value of the two plans (shortest silence, earliest battery
 * warning, fewest flaps); a sensor that watches nobody takes the defaults. The battery clear level
 * is always above the alarm level, so the hysteresis holds.
 */
export function technicalSettings(sensor: SensorConfig, residents: readonly Resident[]): ResolvedTechnicalSettings {
  if (residents.length === 0) {
    return {
      silentMinutes: PLAN_DEFAULTS.silentMinutes.other,
      lowBatteryPercent: PLAN_DEFAULTS.lowBatteryPercent,
      batteryClearPercent: PLAN_DEFAULTS.batteryClearPercent,
      flappingChangesPerMinute: PLAN_DEFAULTS.flappingChangesPerMinute,
    };
  }
  const each = residents.map(({ plan }) => ({
    silent: plan.technical?.silentMinutes ?? silentMinutesByRisk(sensor.kind, plan),
    low: plan.technical?.lowBatteryPercent ?? PLAN_DEFAULTS.lowBatteryPercent,
    clear: plan.technical?.batteryClearPercent ?? PLAN_DEFAULTS.batteryClearPercent,
    flaps: plan.technical?.flappingChangesPerMinute ?? PLAN_DEFAULTS.flappingChangesPerMinute,
  }));
  const low = Math.max(...each.map((e) => e.low));
  return {
    silentMinutes: Math.min(...each.map((e) => e.silent)),
    lowBatteryPercent: low,
    batteryClearPercent: Math.min(100, Math.max(low + 1, ...each.map((e) => e.clear))),
    flappingChangesPerMinute: Math.min(...each.map((e) => e.flaps)),
  };
}
