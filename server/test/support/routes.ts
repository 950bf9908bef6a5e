/**
 * Every method and path Fastify routes, read from its own route tree (`printRoutes`), not from
 * our OpenAPI hook: `get /api/sites/{siteId}/rooms`, HEAD included as Fastify adds it.
 */
export function routedOperations(tree: string): string[] {
  const stack: string[] = [];
  const operations: string[] = [];
  for (const line of tree.split('\n')) {
    const start = line.search(/[^│├└─\s]/);
    if (start < 0) continue;
    const depth = Math.floor(start / 4);
    const match = /^(\S+) \(([^)]+)\)$/.exec(line.slice(start));
    const segment = match?.[1] ?? line.slice(start).trim();
    stack.length = depth;
    const path = (stack[depth - 1] ?? '') + segment;
    stack[depth] = path;
    if (match === null || match[2] === undefined) continue;
    for (const method of match[2].split(', ')) operations.push(`${method.toLowerCase()} ${path.replace(/:([A-Za-z0-9_]+)/g, '{$1}')}`);
  }
  return operations;
}
