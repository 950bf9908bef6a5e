/**
 * Self time by function and by file, over every `.cpuprofile` (`node --cpu-prof`) in a directory:
 * enough to see where a process's CPU went without opening DevTools.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

/** The part of the checkout or of node_modules a script URL belongs to, e.g. `server/dist/src/realtime` or `socket.io`. */
function partOf(url: string): string {
  if (url === '') return '(native / vm)';
  const modules = url.lastIndexOf('/node_modules/');
  if (modules >= 0) {
    const rest = url.slice(modules + '/node_modules/'.length).split('/');
    return rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : (rest[0] ?? url);
  }
  if (url.startsWith('node:')) return 'node:';
  const local = /\/(protocol|gateway|server|simulator|bench)\/dist\/src\/(.*)\/[^/]+$/.exec(url);
  if (local) return `${local[1]}/${local[2]}`;
  const file = /\/(protocol|gateway|server|simulator|bench)\/dist\/src\/[^/]+$/.exec(url);
  return file ? `${file[1]}` : url;
}

export function summarizeProfile(dir: string, top = 15, only?: string): string {
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile') && (only === undefined || f === only));
  if (files.length === 0) return `no .cpuprofile in ${dir}`;
  const byFunction = new Map<string, number>();
  const byPart = new Map<string, number>();
  let total = 0;
  for (const file of files) {
    const { nodes } = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { nodes: ProfileNode[] };
    for (const node of nodes) {
      const hits = node.hitCount ?? 0;
      if (hits === 0) continue;
      total += hits;
      const { functionName, url, lineNumber } = node.callFrame;
      const name = `${functionName || '(anonymous)'} ${url.replace(/^.*\/(node_modules|dist)\//, '')}:${lineNumber + 1}`;
      byFunction.set(name, (byFunction.get(name) ?? 0) + hits);
      const part = partOf(url);
      byPart.set(part, (byPart.get(part) ?? 0) + hits);
    }
  }
  const list = (map: Map<string, number>, n: number) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, hits]) => `  ${((100 * hits) / total).toFixed(1).padStart(5)} %  ${name}`)
      .join('\n');
  return `CPU profile: ${files.length} file(s) in ${dir} (${total} samples)\nby part:\n${list(byPart, 12)}\ntop functions (self time):\n${list(byFunction, top)}`;
}

// `node bench/dist/src/cpu-profile.js <dir> [top]`: one summary per profile (per process) in <dir>.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const dir = process.argv[2];
  if (dir === undefined) {
    process.stderr.write('node bench/dist/src/cpu-profile.js <dir with .cpuprofile files> [top functions, default 15]\n');
    process.exit(2);
  }
  const top = Number(process.argv[3] ?? 15);
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))) {
    process.stdout.write(`── ${file}\n${summarizeProfile(dir, top, file)}\n\n`);
  }
}
