import type { DecodeContext, DecodeResult, SensorAdapter } from './adapter.js';
import { rejected } from './adapter.js';

/** The sensor formats a gateway understands, tried in order; the first that owns a topic decodes it. */
export class AdapterRegistry {
  constructor(private readonly adapters: readonly SensorAdapter[]) {}

  subscriptions(siteId: string): string[] {
    return [...new Set(this.adapters.flatMap((a) => a.subscriptions(siteId)))];
  }

  decode(topic: string, payload: Buffer, ctx: DecodeContext): DecodeResult {
    const adapter = this.adapters.find((a) => a.owns(topic));
    if (adapter === undefined) return rejected('bad-topic', 'no sensor format owns this topic');
    return adapter.decode(topic, payload, ctx);
  }
}
