import type { Alarm, AlarmDecision } from '@nattevakt/protocol/alarm';
import type { RoomState } from '@nattevakt/protocol/ward';
import { io, type Socket } from 'socket.io-client';

/**
 * The ward's fallback when the server is gone: the gateway's read-only `/local` Socket.IO feed
 * of open alarms (gateway/src/local-alarms/local-feed.ts), on the gateway's health port, with a
 * token. The tablet must know the address and token before the server disappears, so they are
 * kept in this tablet's localStorage. They get there from a setup link
 * (`…/#gateway-feed=<url>&gateway-token=<token>`, read once and removed from the address bar)
 * or from the form on the start screen; a `localFeed` in /api/ward is taken too, should the
 * server ever send one.
 */
export interface LocalFeedSettings {
  url: string;
  token: string;
}

/** An open alarm as the gateway knows it (gateway LocalAlarm): the decision plus what the server told it. */
export interface LocalAlarm extends AlarmDecision {
  status: 'active' | 'acknowledged';
  acknowledgedBy: string | null;
  conditionClearedAt: string | null;
}

export type FallbackStatus = 'off' | 'unconfigured' | 'connecting' | 'connected' | 'unreachable';

const KEY = 'nattevakt.gatewayFeed';
const TOKEN_MIN = 16;

/** Checks a URL and token as typed by a person; null when fine, else which field is wrong. */
export function checkLocalFeedSettings(url: string, token: string): 'url' | 'token' | null {
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return 'url';
  } catch {
    return 'url';
  }
  return token.length >= TOKEN_MIN ? null : 'token';
}

export function loadLocalFeedSettings(): LocalFeedSettings | null {
  try {
    const stored = JSON.parse(localStorage.getItem(KEY) ?? 'null') as Partial<LocalFeedSettings> | null;
    if (stored && typeof stored.url === 'string' && typeof stored.token === 'string' && !checkLocalFeedSettings(stored.url, stored.token))
      return { url: stored.url, token: stored.token };
  } catch {
    // Nothing usable stored.
  }
  return null;
}

export function saveLocalFeedSettings(settings: LocalFeedSettings | null): void {
  try {
    if (settings) localStorage.setItem(KEY, JSON.stringify({ url: settings.url.replace(/\/+$/, ''), token: settings.token }));
    else localStorage.removeItem(KEY);
  } catch {
    // Private mode: the fallback works for this load only.
  }
}

/** Reads a setup link's fragment, stores what it carries, and removes it from the address bar. */
export function takeLocalFeedFromLocation(): boolean {
  const hash = window.location.hash.replace(/^#/, '');
  if (!hash.includes('gateway-feed=')) return false;
  const params = new URLSearchParams(hash);
  const url = params.get('gateway-feed') ?? '';
  const token = params.get('gateway-token') ?? '';
  params.delete('gateway-feed');
  params.delete('gateway-token');
  const rest = params.toString();
  window.history.replaceState(window.history.state, '', `${window.location.pathname}${window.location.search}${rest ? `#${rest}` : ''}`);
  if (checkLocalFeedSettings(url, token) !== null) return false;
  saveLocalFeedSettings({ url, token });
  return true;
}

/** One connection to the gateway's feed; `onSnapshot` gets every complete list of open alarms. */
export class LocalFeed {
  private socket: Socket | null = null;

  constructor(
    private readonly settings: LocalFeedSettings,
    private readonly onSnapshot: (alarms: LocalAlarm[]) => void,
    private readonly onStatus: (status: FallbackStatus) => void,
    /** Each alarm the gateway raises, the moment it does (the feed's `alarm` events with status active). */
    private readonly onRaised?: (alarm: LocalAlarm) => void,
  ) {}

  start(): void {
    if (this.socket) return;
    this.onStatus('connecting');
    // WebSocket only: long-polling would need the gateway to list this origin for CORS.
    const socket = io(`${this.settings.url.replace(/\/+$/, '')}/local`, {
      auth: { token: this.settings.token },
      transports: ['websocket'],
      forceNew: true,
      reconnectionDelayMax: 5000,
    });
    this.socket = socket;
    socket.on('connect', () => this.onStatus('connected'));
    socket.on('connect_error', () => this.onStatus('unreachable'));
    socket.on('disconnect', () => this.onStatus('unreachable'));
    socket.on('snapshot', (open: LocalAlarm[]) => {
      if (Array.isArray(open)) this.onSnapshot(open);
    });
    const onRaised = this.onRaised;
    if (onRaised)
      socket.on('alarm', (changed: unknown) => {
        if (isRaised(changed)) onRaised(changed);
      });
  }

  stop(): void {
    this.socket?.removeAllListeners();
    this.socket?.disconnect();
    this.socket = null;
  }
}

/** A feed change that is an open, unanswered alarm with what the board needs to show it (the feed is trusted only so far). */
function isRaised(changed: unknown): changed is LocalAlarm {
  if (typeof changed !== 'object' || changed === null) return false;
  const alarm = changed as Partial<LocalAlarm>;
  return (
    alarm.status === 'active' &&
    typeof alarm.id === 'string' &&
    typeof alarm.siteId === 'string' &&
    typeof alarm.roomId === 'string' &&
    typeof alarm.sensorId === 'string' &&
    typeof alarm.rule === 'string' &&
    typeof alarm.priority === 'string' &&
    typeof alarm.raisedAt === 'string' &&
    typeof alarm.decidedAt === 'string' &&
    typeof alarm.evidence === 'object' &&
    alarm.evidence !== null
  );
}

/**
 * A gateway alarm in the shape the board shows. Names come from the rooms the tablet knew when
 * the server went away; seq 0 marks it as not (yet) confirmed by the server, so any server
 * version of the same alarm (same id) wins.
 */
export function localToAlarm(local: LocalAlarm, rooms: readonly RoomState[]): Alarm {
  const room = rooms.find((known) => known.roomId === local.roomId);
  const resident = room?.resident && room.resident.id === local.residentId ? room.resident.name : '';
  return {
    id: local.id,
    siteId: local.siteId,
    ...(local.residentId === undefined ? {} : { residentId: local.residentId }),
    roomId: local.roomId,
    sensorId: local.sensorId,
    rule: local.rule,
    priority: local.priority,
    raisedAt: local.raisedAt,
    decidedAt: local.decidedAt,
    evidence: local.evidence,
    seq: 0,
    status: local.status,
    residentName: resident,
    roomName: room?.roomName ?? local.roomId,
    receivedAt: local.decidedAt,
    conditionClearedAt: local.conditionClearedAt,
    acknowledgedAt: null,
    acknowledgedBy: local.acknowledgedBy,
    resolvedAt: null,
    resolvedBy: null,
    outcome: null,
    note: null,
    escalationLevel: 0,
    escalatedAt: null,
    nextEscalationAt: null,
    explanation: null,
  };
}
