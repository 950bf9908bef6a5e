import { createContext, type ReactNode, useContext, useEffect, useState, useSyncExternalStore } from 'react';
import { WardConnection } from './ward-connection.js';
import type { WardSnapshot } from './ward-store.js';

const WardContext = createContext<WardConnection | null>(null);

/** Owns the one connection of this tablet; the start screen and the board share it. */
export function WardProvider({ children, receipts = false, alarms = true }: { children: ReactNode; receipts?: boolean; alarms?: boolean }) {
  const [connection] = useState(() => new WardConnection({ receipts, alarms }));
  useEffect(() => {
    connection.start();
    return () => connection.stop();
  }, [connection]);
  return <WardContext value={connection}>{children}</WardContext>;
}

export function useWardConnection(): WardConnection {
  const connection = useContext(WardContext);
  if (!connection) throw new Error('useWardConnection() outside <WardProvider>');
  return connection;
}

export function useWard(): WardSnapshot {
  const { store } = useWardConnection();
  return useSyncExternalStore(store.subscribe, store.getSnapshot);
}
