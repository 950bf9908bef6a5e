/**
 * Typed Socket.IO event maps for both namespaces, in the shape `socket.io` and
 * `socket.io-client` take as generics: `new Server<ClientToServer, ServerToClient>()`.
 */
import { type Static, Type } from '@sinclair/typebox';
import type { AcknowledgeCommand, Alarm, DeliveredCommand, DisplayedCommand, ResolveCommand } from './alarm.js';
import { AlarmDecision, ConditionCleared } from './alarm.js';
import type { ScenarioProgress, ScenarioRun } from './commissioning.js';
import { Id } from './ids.js';
import { SensorEvent } from './sensor-event.js';
import type { SiteConfig } from './site-config.js';
import type { EvaluationReminders } from './supervision.js';
import { validator } from './validation.js';
import type { RoomState, SiteClock } from './ward.js';

/** One item of the gateway's durable outbox, delivered at least once. */
export const OutboxItem = Type.Union([
  Type.Object({ type: Type.Literal('event'), event: SensorEvent }, { additionalProperties: false }),
  Type.Object({ type: Type.Literal('alarm'), alarm: AlarmDecision }, { additionalProperties: false }),
  Type.Object({ type: Type.Literal('cleared'), cleared: ConditionCleared }, { additionalProperties: false }),
]);
export type OutboxItem = Static<typeof OutboxItem>;
export const outboxItem = validator(OutboxItem);

/** Maximum items per batch the server accepts; the gateway sends at most this many. */
export const MAX_BATCH_ITEMS = 500;

/**
 * The server's answer to a batch. `accepted` counts items stored now or before (duplicates are
 * accepted: ingestion is idempotent); `rejected` lists items that can never be stored, with the
 * reason, so the gateway drops them instead of retrying forever.
 */
export interface BatchAck {
  ok: boolean;
  accepted: number;
  rejected: { index: number; error: string }[];
  error?: string;
}

export interface GatewayStatus {
  siteId: string;
  connected: boolean;
}

/** `/gateway` namespace: a site's gateway → the server. Auth: `{ token }` in the handshake. */
export interface GatewayClientToServer {
  /**
   * Outbox items in order: an array, or the same array as JSON text in a binary attachment (what the
   * gateway sends: its outbox keeps each item as JSON text, so a batch is joined, not parsed and
   * serialised again).
   */
  batch: (items: OutboxItem[] | Uint8Array, ack: (result: BatchAck) => void) => void;
  clock: (clock: SiteClock) => void;
  /**
   * An alarm the moment the rules decide it, before it is durable (best effort: sent only while
   * connected, no answer). The server shows it to the site's tablets at once as provisional (`provisionalAlarm`);
   * it is stored only when the same decision comes in a `batch` from the outbox, which is what makes
   * it an alarm with a lifecycle. Losing this message delays nothing but the early display.
   */
  alarmDecided: (decision: AlarmDecision) => void;
}
export interface GatewayServerToClient {
  /** The site's configuration, pushed on connect and on every change. */
  config: (config: SiteConfig) => void;
  /**
   * A change people made to one of the site's alarms (acknowledged, resolved, and any later change of such
   * an alarm), so the gateway's local feed shows who is going. Changes of an alarm still active (stored,
   * condition cleared, escalated) are not sent: the gateway made the first two and shows none of them.
   */
  alarm: (alarm: Alarm) => void;
}

export type CommandResult = { ok: true; alarm: Alarm } | { ok: false; error: string };

/** What the server holds for one alarm on one tablet: first delivered, first displayed (server clock). */
export interface DeliveryReceipt {
  alarmId: string;
  device: string;
  /** The highest version of the alarm the tablet confirmed; null when only `displayed` came. */
  seq: number | null;
  deliveredAt: string | null;
  displayedAt: string | null;
}
export type ReceiptResult = { ok: true; receipt: DeliveryReceipt } | { ok: false; error: string };

/**
 * An escalation step as an alert to the people it targets (the alarm's own change, with its
 * `seq`, still reaches every board of the site as `alarm`): level 1 goes to every staff member of
 * the site, level 2 to the nurse in charge only, or to everyone when no nurse in charge is online.
 */
export interface EscalationAlert {
  alarm: Alarm;
  level: number;
  notified: 'all-nurses' | 'nurse-in-charge';
}

/** One sensor whose live events a technician (or admin) of its site wants on `/staff`. */
export const SensorSubscription = Type.Object({ siteId: Id, sensorId: Id }, { additionalProperties: false });
export type SensorSubscription = Static<typeof SensorSubscription>;
export const sensorSubscription = validator(SensorSubscription);
export type SubscriptionResult = { ok: true } | { ok: false; error: string };
/** How many sensors one socket may follow at once. */
export const MAX_SENSOR_SUBSCRIPTIONS = 20;

/** `/staff` namespace: the server ↔ nurses' tablets. */
export interface StaffServerToClient {
  /** A new alarm or any change to one; `seq` tells the client whether it missed anything. */
  alarm: (alarm: Alarm) => void;
  /**
   * An alarm the gateway has just decided and the server has not stored yet: shown (and sounded) at
   * once, marked as not yet confirmed, without commands; the `alarm` of the same id replaces it
   * (normally milliseconds later). Carries no `seq` and takes no part in the tablet's gap detection.
   */
  provisionalAlarm: (decision: AlarmDecision) => void;
  room: (state: RoomState) => void;
  clock: (clock: SiteClock) => void;
  gateway: (status: GatewayStatus) => void;
  /** Nobody acknowledged an alarm in time: sound it again, more urgently (see `EscalationAlert`). */
  escalation: (alert: EscalationAlert) => void;
  /** Nurse in charge only: vedtak evaluations due or overdue at a site, on connect and when one becomes due or overdue. */
  evaluationReminders: (reminders: EvaluationReminders) => void;
  /** Technicians and admins: each ingested event of a sensor they subscribed to (`subscribeSensor`). Never to other roles. */
  sensorEvent: (event: SensorEvent) => void;
  /** The person who started a scenario run: how far it is, about once a second. */
  scenarioProgress: (progress: ScenarioProgress) => void;
  /** The person who started a scenario run: its verdict (or error), as stored. */
  scenarioFinished: (run: ScenarioRun) => void;
}
export interface StaffClientToServer {
  acknowledge: (command: AcknowledgeCommand, done: (result: CommandResult) => void) => void;
  resolve: (command: ResolveCommand, done: (result: CommandResult) => void) => void;
  /** Delivery confirmation for an `alarm` received (live or by resync). Does not change the alarm or its seq. */
  delivered: (command: DeliveredCommand, done: (result: ReceiptResult) => void) => void;
  /** Read receipt: the alarm is on screen. Does not change the alarm or its seq. */
  displayed: (command: DisplayedCommand, done: (result: ReceiptResult) => void) => void;
  /** Technicians and admins of the site: follow one sensor's events live (`sensorEvent`) until unsubscribed or disconnected. */
  subscribeSensor: (subscription: SensorSubscription, done: (result: SubscriptionResult) => void) => void;
  unsubscribeSensor: (subscription: SensorSubscription, done: (result: SubscriptionResult) => void) => void;
}
