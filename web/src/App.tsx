import { type ReactNode, useState } from 'react';
import { useWard, WardProvider } from './api/ward-context.js';
import { StartShift } from './pages/StartShift.js';
import { WardBoard } from './pages/WardBoard.js';
import { SiteTimeProvider } from './time/site-time.js';

export function App() {
  // The shift is deliberately not remembered across reloads: sound needs a fresh tap each load.
  const [nurse, setNurse] = useState<string | null>(null);
  return (
    <WardProvider>
      <WardClock>{nurse ? <WardBoard nurse={nurse} onEndShift={() => setNurse(null)} /> : <StartShift onStart={setNurse} />}</WardClock>
    </WardProvider>
  );
}

function WardClock({ children }: { children: ReactNode }) {
  const ward = useWard();
  return (
    <SiteTimeProvider clock={ward.clock} timeZone={ward.site?.timezone}>
      {children}
    </SiteTimeProvider>
  );
}
