import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { checkSiteConfig, type SiteConfig } from '@nattevakt/protocol/site-config';

/**
 * The last site configuration the gateway received, kept on disk so that it boots and alarms
 * without the server. Written atomically (temp file + rename) so a power cut never leaves half a file.
 */
export class SiteConfigStore {
  constructor(readonly path: string) {}

  load(): SiteConfig | null {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch {
      return null;
    }
    const checked = checkSiteConfig(JSON.parse(text));
    if (!checked.ok) throw new Error(`${this.path}: stored site configuration is invalid: ${checked.errors.join('; ')}`);
    return checked.value;
  }

  save(config: SiteConfig): void {
    mkdirSync(dirname(this.path), { recursive: true });
    const temp = `${this.path}.tmp`;
    writeFileSync(temp, `${JSON.stringify(config, null, 2)}\n`);
    renameSync(temp, this.path);
  }
}
