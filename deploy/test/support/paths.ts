import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** deploy/ (this workspace) and the repository root, wherever the test runs from (source or dist). */
export const deployDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..').replace(/\/dist$/, '');
export const repoRoot = join(deployDir, '..');
