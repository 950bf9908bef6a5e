import { readFileSync } from 'node:fs';
import { parseAllDocuments, type Tags } from 'yaml';

/** Compose's `!reset` and `!override` tags (Compose 2.24+): kept as the value they carry. */
const composeTags: Tags = [
  { tag: '!reset', collection: 'seq', resolve: (value) => value },
  { tag: '!reset', collection: 'map', resolve: (value) => value },
  { tag: '!reset', resolve: (value: string) => value },
  { tag: '!override', collection: 'seq', resolve: (value) => value },
  { tag: '!override', collection: 'map', resolve: (value) => value },
];

/** Every document of a YAML file as plain data; throws on the first syntax error or warning, naming the file. */
export function readYaml(path: string): unknown[] {
  const docs = parseAllDocuments(readFileSync(path, 'utf8'), {
    customTags: composeTags,
    merge: true,
    prettyErrors: true,
    uniqueKeys: true,
  });
  if (!Array.isArray(docs)) return [];
  return docs.map((doc) => {
    const problems = [...doc.errors, ...doc.warnings];
    if (problems.length > 0) throw new Error(`${path}: ${problems.map((p) => p.message).join('\n')}`);
    return doc.toJS({ maxAliasCount: 100 });
  });
}
