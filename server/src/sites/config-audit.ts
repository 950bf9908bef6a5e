import type { RelationalDb } from '../stores/relational/database.js';
import type { SiteTransaction } from './site-service.js';

/** Who made a change: a logged-in person, or `system` (a pause that ran out, the demo seed). */
export interface Actor {
  id: string;
  name: string;
}
export const SYSTEM: Actor = { id: 'system', name: 'system' };

export type AuditEntity = 'site' | 'room' | 'resident' | 'sensor' | 'plan' | 'legal-basis' | 'plan-status';

export interface ConfigAuditInput {
  siteId: string;
  entity: AuditEntity;
  entityId: string;
  residentId?: string | null;
  action: string;
  actor: Actor;
  at: string;
  revision: number | null;
  /** What changed: typically `{ before, after }`, or the fields given. */
  detail?: object | null;
}

export interface ConfigAuditEntry {
  seq: number;
  entity: string;
  entityId: string;
  residentId: string | null;
  action: string;
  actor: string;
  actorId: string;
  at: string;
  revision: number | null;
  detail: Record<string, unknown> | null;
}

/** Writes one audit row in the transaction of the change it records, so there is no change without its row. */
export async function writeConfigAudit(trx: SiteTransaction, entry: ConfigAuditInput): Promise<void> {
  await trx
    .insertInto('config_audit')
    .values({
      site_id: entry.siteId,
      entity: entry.entity,
      entity_id: entry.entityId,
      resident_id: entry.residentId ?? null,
      action: entry.action,
      actor: entry.actor.name,
      actor_id: entry.actor.id,
      at: entry.at,
      revision: entry.revision,
      detail: entry.detail ? JSON.stringify(entry.detail) : null,
    })
    .execute();
}

/** A site's audit trail, newest first; `residentId` narrows it to one resident. */
export async function readConfigAudit(
  db: RelationalDb,
  siteId: string,
  options: { residentId?: string; before?: number; limit: number },
): Promise<ConfigAuditEntry[]> {
  let query = db.selectFrom('config_audit').selectAll().where('site_id', '=', siteId);
  if (options.residentId !== undefined) query = query.where('resident_id', '=', options.residentId);
  if (options.before !== undefined) query = query.where('seq', '<', options.before);
  const rows = await query.orderBy('seq', 'desc').limit(options.limit).execute();
  return rows.map((r) => ({
    seq: Number(r.seq),
    entity: r.entity,
    entityId: r.entity_id,
    residentId: r.resident_id,
    action: r.action,
    actor: r.actor,
    actorId: r.actor_id,
    at: r.at,
    revision: r.revision === null ? null : Number(r.revision),
    detail: r.detail === null ? null : (JSON.parse(r.detail) as Record<string, unknown>),
  }));
}
