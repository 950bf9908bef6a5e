import { type Static, Type } from '@sinclair/typebox';
import { LocalDate } from './supervision.js';

/**
 * Relatives of a resident as staff manage them over REST (server/src/routes/relatives.ts): who is
 * linked, the resident's (or guardian's) consent to share, and the log of what relatives read.
 * What a relative sees is in night-summary.ts (`RelativeResident`, `RelativeLastNight`, …).
 */

/** A relative user linked to a resident. */
export const RelativeLink = Type.Object({
  username: Type.String(),
  displayName: Type.String(),
  linkedAt: Type.String(),
  linkedBy: Type.String(),
});
export type RelativeLink = Static<typeof RelativeLink>;

/** A consent to share with linked relatives, in force until `withdrawnAt`. */
export const SharingConsent = Type.Object({
  id: Type.String(),
  givenBy: Type.Union([Type.Literal('resident'), Type.Literal('guardian')]),
  guardianName: Type.Union([Type.String(), Type.Null()]),
  givenOn: Type.String(),
  note: Type.Union([Type.String(), Type.Null()]),
  recordedBy: Type.String(),
  recordedAt: Type.String(),
  withdrawnAt: Type.Union([Type.String(), Type.Null()]),
  withdrawnBy: Type.Union([Type.String(), Type.Null()]),
});
export type SharingConsent = Static<typeof SharingConsent>;

/** A consent as staff record it. */
export const ConsentInput = Type.Object(
  {
    givenBy: Type.Union([Type.Literal('resident'), Type.Literal('guardian')], {
      description: 'the resident, or the guardian on their behalf',
    }),
    guardianName: Type.Optional(Type.String({ minLength: 1, maxLength: 120, description: 'required when givenBy is guardian' })),
    givenOn: Type.String({ pattern: LocalDate.pattern, description: 'the day the consent was given (not in the future)' }),
    note: Type.Optional(Type.String({ maxLength: 1000 })),
  },
  { additionalProperties: false },
);
export type ConsentInput = Static<typeof ConsentInput>;

/** A resident's relatives: the links, the consent in force and every consent given. */
export const Relatives = Type.Object({
  links: Type.Array(RelativeLink),
  consent: Type.Union([SharingConsent, Type.Null()]),
  consents: Type.Array(SharingConsent),
});
export type Relatives = Static<typeof Relatives>;

/** One read by a relative, as the access log keeps it. */
export const AccessLogEntry = Type.Object({
  seq: Type.Integer(),
  username: Type.String(),
  siteId: Type.String(),
  residentId: Type.String(),
  what: Type.String(),
  at: Type.String(),
});
export type AccessLogEntry = Static<typeof AccessLogEntry>;
export const AccessLog = Type.Object({ entries: Type.Array(AccessLogEntry) });
