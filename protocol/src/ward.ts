import { type Static, Type } from '@sinclair/typebox';
import { Battery, Id, Instant } from './ids.js';
import { SensorKind } from './site-config.js';

/** Live state of one room as the nurse's board shows it. `null` means not known yet. */
export const RoomState = Type.Object({
  siteId: Id,
  roomId: Id,
  roomName: Type.String(),
  resident: Type.Union([Type.Object({ id: Id, name: Type.String(), armed: Type.Boolean() }), Type.Null()]),
  bed: Type.Object({ occupied: Type.Union([Type.Boolean(), Type.Null()]), since: Type.Union([Instant, Type.Null()]) }),
  door: Type.Object({ open: Type.Union([Type.Boolean(), Type.Null()]), since: Type.Union([Instant, Type.Null()]) }),
  sensors: Type.Array(
    Type.Object({
      id: Id,
      kind: SensorKind,
      online: Type.Union([Type.Boolean(), Type.Null()]),
      lastSeen: Type.Union([Instant, Type.Null()]),
      battery: Type.Union([Battery, Type.Null()]),
    }),
  ),
});
export type RoomState = Static<typeof RoomState>;

/** The site clock: real time in production, the simulator's time in a demo. */
export const SiteClock = Type.Object({ siteId: Id, time: Instant, simulated: Type.Boolean(), speed: Type.Number() });
export type SiteClock = Static<typeof SiteClock>;

/** What a gateway announces about its `/local` feed when it connects to the server (handshake `auth.localFeed`). */
export const LocalFeedAnnouncement = Type.Object(
  {
    url: Type.String({ pattern: '^https?://[^\\s]+$', maxLength: 300, description: 'the feed as tablets on the ward reach it' }),
    token: Type.String({ minLength: 16, maxLength: 200 }),
  },
  { additionalProperties: false },
);
export type LocalFeedAnnouncement = Static<typeof LocalFeedAnnouncement>;

export const WardView = Type.Object({
  site: Type.Object({ id: Id, name: Type.String(), timezone: Type.String() }),
  gatewayConnected: Type.Boolean(),
  clock: Type.Union([SiteClock, Type.Null()]),
  rooms: Type.Array(RoomState),
  /** Alarm sequence number at the time of this snapshot; resync from here. */
  seq: Type.Integer({ minimum: 0 }),
  /** The gateway's read-only local alarm feed, as the gateway announced it: the tablet's fallback when the server is gone. */
  localFeed: Type.Optional(LocalFeedAnnouncement),
});
export type WardView = Static<typeof WardView>;
