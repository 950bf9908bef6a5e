import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeDifferences } from '@nattevakt/simulator/scenario/compare';
import { type CompiledScenario, compileScenario } from '@nattevakt/simulator/scenario/load-scenario';
import { verifyScenario } from '@nattevakt/simulator/scenario/verify';
import { afterEach, describe, expect, it } from 'vitest';
import { BRIDGE_USER, SIMULATOR_USER, startScenarioGateway } from './support/scenario-gateway.js';

const scenarios = fileURLToPath(new URL('../../simulator/scenarios/', import.meta.url));
const files = readdirSync(scenarios)
  .filter((f) => f.endsWith('.yaml') || f.endsWith('.json'))
  .sort();
const load = (name: string): CompiledScenario => {
  const file = join(scenarios, name);
  return compileScenario(readFileSync(file, 'utf8'), { file, readSiteFile: (site) => readFileSync(join(scenarios, site), 'utf8') });
};

describe('every built-in scenario, verified against a real gateway on a simulated clock', () => {
  const stops: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const stop of stops.splice(0)) await stop();
  });

  const run = async (scenario: CompiledScenario) => {
    const gateway = await startScenarioGateway(scenario);
    stops.push(gateway.stop);
    return verifyScenario(scenario, { url: gateway.url, ...SIMULATOR_USER, bridge: BRIDGE_USER });
  };

  it('finds the built-in scenarios', () => {
    expect(files.length).toBeGreaterThanOrEqual(1);
  });

  for (const name of files) {
    it(name, async () => {
      const scenario = load(name);
      const result = await run(scenario);
      const report = [...describeDifferences(result.differences, scenario.clock), result.hint ?? ''].join('\n');
      expect(result.passed, report).toBe(true);
      expect(result.sent).toBe(scenario.messages.length);
    });
  }

  it('fails, and says what differs, when the ward does not raise what the scenario expects', async () => {
    const scenario = load('door-open-at-night.yaml');
    // The door alarm expected an hour late, and the out-of-bed expectation dropped: one missing, one unexpected.
    const expected = scenario.expectations[0];
    if (expected === undefined) throw new Error('door-open-at-night.yaml has no expectation');
    const wrong: CompiledScenario = {
      ...scenario,
      expectations: [{ ...expected, from: expected.from + 3_600_000, to: expected.to + 3_600_000 }],
    };
    const result = await run(wrong);
    expect(result.passed).toBe(false);
    expect(result.differences.map((d) => d.kind).sort()).toEqual(['missing', 'unexpected', 'unexpected']);
    const lines = describeDifferences(result.differences, scenario.clock);
    expect(lines[0]).toMatch(
      /^missing {5}expected door-open-at-night res-2 between 04:09:50 and 04:10:10 \(line \d+\); got the nearest at 03:10:00$/,
    );
    expect(lines.join('\n')).toContain('unexpected  got out-of-bed-too-long res-2 bed-2 at 03:29:');
  });
});
