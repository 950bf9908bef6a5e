import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';

/** Where the built-in scenarios live: `simulator/scenarios/` (from `dist/src/scenario/` and `src/scenario/` alike). */
export const BUILT_IN_SCENARIO_DIR = fileURLToPath(
  new URL(import.meta.url.includes('/dist/') ? '../../../scenarios/' : '../../scenarios/', import.meta.url),
);

export interface BuiltInScenario {
  /** The file name without `.yaml`: also the scenario's `name`. */
  name: string;
  title: string | null;
  /** The file's text, to compile with `compileScenario`. */
  source: string;
}

const NAME = /^[a-z0-9][a-z0-9-]*$/;

/** Every built-in scenario, by name; read from disk each time (a few kB each). */
export async function builtInScenarios(dir = BUILT_IN_SCENARIO_DIR): Promise<BuiltInScenario[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.yaml') && NAME.test(f.slice(0, -5))).sort();
  return Promise.all(
    files.map(async (file) => {
      const source = await readFile(new URL(file, `file://${dir.endsWith('/') ? dir : `${dir}/`}`), 'utf8');
      const title = parseDocument(source).get('title');
      return { name: file.slice(0, -5), title: typeof title === 'string' ? title : null, source };
    }),
  );
}

/** One built-in scenario by name, or null when there is none (the name is checked, never a path). */
export async function builtInScenario(name: string, dir = BUILT_IN_SCENARIO_DIR): Promise<BuiltInScenario | null> {
  if (!NAME.test(name)) return null;
  return (await builtInScenarios(dir)).find((s) => s.name === name) ?? null;
}
