/**
 * The container images, checked without a Docker engine: dockerfile-utils' linter (the one behind
 * the VS Code Docker extension) with every check an error, and the structure a small, non-root,
 * health-checked image needs. Each COPY source must exist and get past the image's .dockerignore,
 * or `docker build` would fail on a machine that has Docker.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DockerfileParser } from 'dockerfile-ast';
import { ValidationSeverity, validate } from 'dockerfile-utils';
import { describe, expect, it } from 'vitest';
import { deployDir, repoRoot } from './support/paths.js';

const images = [
  { name: 'server', entry: 'server/dist/src/main.js', health: '/api/health' },
  { name: 'gateway', entry: 'gateway/dist/src/main.js', health: '/health' },
] as const;

/** A .dockerignore's patterns as a matcher: the last matching line wins, `!` re-includes. */
function dockerignore(path: string): (file: string) => boolean {
  const rules = readFileSync(path, 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const negate = line.startsWith('!');
      const glob = negate ? line.slice(1) : line;
      const source = glob
        .split('/')
        .map((part) => (part === '**' ? '.*' : part.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')))
        .join('/')
        .replace(/\.\*\//g, '(.*/)?');
      return { negate, re: new RegExp(`^${source}(/.*)?$`) };
    });
  return (file) => {
    let ignored = false;
    for (const rule of rules) if (rule.re.test(file)) ignored = !rule.negate;
    return ignored;
  };
}

describe.each(images)('the $name image', ({ name, entry, health }) => {
  const path = join(deployDir, 'docker', `${name}.Dockerfile`);
  const text = readFileSync(path, 'utf8');
  const dockerfile = DockerfileParser.parse(text);
  const instructions = dockerfile.getInstructions();
  const stages = dockerfile.getFROMs();
  const finalStage = instructions.slice(instructions.indexOf(stages.at(-1) as never));
  const named = (keyword: string) => finalStage.filter((i) => i.getKeyword() === keyword);

  it('passes the Dockerfile linter with every check an error', () => {
    const all = ValidationSeverity.ERROR;
    const problems = validate(text, {
      deprecatedMaintainer: all,
      directiveCasing: all,
      emptyContinuationLine: all,
      instructionCasing: all,
      instructionCmdMultiple: all,
      instructionEntrypointMultiple: all,
      instructionHealthcheckMultiple: all,
      instructionJSONInSingleQuotes: all,
      instructionWorkdirRelative: all,
    });
    expect(problems.map((p) => `line ${p.range.start.line + 1}: ${p.message}`)).toEqual([]);
  });

  it('is multi-stage, with a distroless runtime that runs as a non-root user', () => {
    expect(stages.length).toBeGreaterThanOrEqual(3);
    expect(text).toMatch(/ARG RUNTIME_IMAGE=gcr\.io\/distroless\/nodejs20-debian12:nonroot/);
    const users = named('USER').map((u) => u.getArgumentsContent() ?? '');
    expect(users).toHaveLength(1);
    expect(users[0]).not.toMatch(/^(root|0)(:|$)/);
    // The build tools stay in the build stage.
    expect(finalStage.some((i) => i.getKeyword() === 'RUN')).toBe(false);
  });

  it('has one exec-form HEALTHCHECK on its health endpoint and an exec-form entry point', () => {
    const checks = named('HEALTHCHECK');
    expect(checks).toHaveLength(1);
    const check = checks[0]?.getRawArgumentsContent() ?? '';
    expect(check).toMatch(/CMD \["\/nodejs\/bin\/node", "\/app\/healthcheck\.mjs", "http:\/\/127\.0\.0\.1:\d+/);
    expect(check).toContain(`${health}"]`);
    expect(named('ENTRYPOINT')[0]?.getRawArgumentsContent()).toBe(`["/nodejs/bin/node", "${entry}"]`);
  });

  it('copies only sources that exist and that its .dockerignore lets through', () => {
    const ignored = dockerignore(join(deployDir, 'docker', `${name}.Dockerfile.dockerignore`));
    const stageNames = new Set(stages.map((s) => s.getBuildStage()).filter((s): s is string => s !== null));
    const problems: string[] = [];
    for (const copy of instructions.filter((i) => i.getKeyword() === 'COPY')) {
      const from = (copy as unknown as { getFlags(): { getName(): string; getValue(): string | null }[] })
        .getFlags()
        .find((f) => f.getName() === 'from');
      const sources = (copy.getArguments() ?? []).map((a) => a.getValue()).slice(0, -1);
      if (from !== undefined) {
        if (!stageNames.has(from.getValue() ?? '')) problems.push(`--from=${from.getValue()}: no such stage`);
        continue;
      }
      for (const source of sources) {
        const clean = source.replace(/\/$/, '');
        if (!existsSync(join(repoRoot, clean))) problems.push(`${source}: missing in the repository`);
        // A directory is sent when its package.json is (every directory copied is a workspace).
        else if (ignored(source.endsWith('/') ? `${clean}/package.json` : clean)) problems.push(`${source}: excluded by the .dockerignore`);
      }
    }
    expect(problems).toEqual([]);
    // What the build needs is sent, and what it must not bake in is not.
    expect(ignored(`${name}/src/main.ts`)).toBe(false);
    expect(ignored('package-lock.json')).toBe(false);
    expect(ignored('deploy/docker/healthcheck.mjs')).toBe(false);
    expect(ignored(`${name}/node_modules/x/index.js`)).toBe(true);
    expect(ignored('deploy/.env')).toBe(true);
    expect(ignored('data/server/nattevakt.db')).toBe(true);
  });
});
