import type { AcknowledgeCommand, ResolveCommand } from '@nattevakt/protocol/alarm';
import { createContext, type ReactNode, useContext, useEffect, useState, useSyncExternalStore } from 'react';
import { type CommandOutcome, WardConnection } from './ward-connection.js';
import type { WardSnapshot, WardStore } from './ward-store.js';

/** What the board's components need of the tablet's link: the ward as known, and the nurse's commands. */
export interface WardPort {
  readonly store: WardStore;
  acknowledge(command: AcknowledgeCommand): Promise<CommandOutcome>;
  resolve(command: ResolveCommand): Promise<CommandOutcome>;
  /** The alarm is on a visible screen (the read receipt). */
  displayed(alarmId: string): void;
}

/** The board's components read the ward through this context; `WardProvider` puts the real connection in it. */
export const WardContext = createContext<WardPort | null>(null);

/** Owns the one connection of this tablet; the start screen and the board share it. */
export function WardProvider({ children, receipts = false, alarms = true }: { children: ReactNode; receipts?: boolean; alarms?: boolean }) {
  const [connection] = useState(() => new WardConnection({ receipts, alarms }));
  useEffect(() => {
    connection.start();
    return () => connection.stop();
  }, [connection]);
  return <WardContext value={connection}>{children}</WardContext>;
}

export function useWardConnection(): WardPort {
  const connection = useContext(WardContext);
  if (!connection) throw new Error('useWardConnection() outside <WardProvider>');
  return connection;
}

export function useWard(): WardSnapshot {
  const { store } = useWardConnection();
  return useSyncExternalStore(store.subscribe, store.getSnapshot);
}

/**
 * One part of the ward (`select` must return a value kept in the snapshot, or a primitive): the
 * component renders again only when that part changes, not with every room update.
 */
export function useWardPart<T>(select: (ward: WardSnapshot) => T): T {
  const { store } = useWardConnection();
  return useSyncExternalStore(store.subscribe, () => select(store.getSnapshot()));
}
