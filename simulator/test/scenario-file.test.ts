import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { availabilityPayload, sensorStatePayload } from '@nattevakt/protocol/sensor-payloads';
import { parseNativeTopic } from '@nattevakt/protocol/topics';
import { describe, expect, it } from 'vitest';
import { type CommandLineIo, EXIT_OK, runCommandLine } from '../src/command-line.js';
import { compileScenario } from '../src/scenario/load-scenario.js';
import { ScenarioError, type ScenarioProblem } from '../src/scenario/scenario-errors.js';

const problemsOf = (text: string, file = 'test.yaml'): ScenarioProblem[] => {
  try {
    compileScenario(text, { file });
  } catch (error) {
    if (error instanceof ScenarioError) return error.problems;
    throw error;
  }
  throw new Error('the scenario compiled, expected problems');
};

const VALID = `name: fall
site:
  demoWard: { residents: 2 }
night: "2026-11-24"
from: "02:00"
to: "04:30"
timeline:
  - { at: "03:30", resident: res-2, does: fall }
expect:
  - { rule: out-of-bed-too-long, resident: res-2, at: "03:50", within: 10s }
`;

describe('scenario files', () => {
  it('compiles a valid scenario into its ward, its messages and its expectations', () => {
    const scenario = compileScenario(VALID, { file: 'fall.yaml' });
    expect(scenario.site.residents).toHaveLength(2);
    expect(scenario.expectations).toEqual([
      {
        rule: 'out-of-bed-too-long',
        residentId: 'res-2',
        from: Date.parse('2026-11-25T02:49:50Z'),
        to: Date.parse('2026-11-25T02:50:10Z'),
        line: 10,
      },
    ]);
    const notes = scenario.messages.filter((m) => m.note !== undefined).map((m) => [new Date(m.at).toISOString(), m.note]);
    expect(notes).toEqual([['2026-11-25T02:30:00.000Z', 'Rom 2: Olav A. faller ved sengen og blir liggende']]);
    // The fall has no return: bed-2 reports "not occupied" from 03:30 to the end.
    const bed2 = scenario.messages.filter((m) => m.topic.endsWith('/bed-2/state') && m.at > Date.parse('2026-11-25T02:30:00Z'));
    expect(bed2.length).toBeGreaterThan(5);
    expect(bed2.every((m) => (m.payload as { occupied: boolean }).occupied === false)).toBe(true);
  });

  it('names the line and field of every schema error, in words', () => {
    const text = `name: bad
site:
  demoWard: { residents: 3 }
night: "2026-11-24"
from: "02:30"
to: "04:00"
timeline:
  - { at: "03:09", resident: res-2, does: walk-out, for: 25 }
  - { at: "3:10", sensor: door-1, fault: tamper }
  - { at: "03:20", sensor: door-1, fault: explode }
  - { at: "03:20", resident: res-1, does: dance }
expect:
  - rule: door-open-at-nite
    resident: res-2
`;
    const problems = problemsOf(text);
    expect(problems.map((p) => [p.line, p.path])).toEqual([
      [8, '/timeline/0/for'],
      [9, '/timeline/1/at'],
      [10, '/timeline/2/fault'],
      [11, '/timeline/3/does'],
      [13, '/expect/0/rule'],
    ]);
    expect(problems[0]?.message).toBe('expected a duration such as "90s", "20m" or "1.5h", got 25');
    expect(problems[2]?.message).toMatch(
      /^expected one of "silent", "offline", "battery", "tamper", "flapping", "malformed", got "explode"$/,
    );
    const error = new ScenarioError('bad.yaml', problems);
    expect(error.message.split('\n')[0]).toBe('bad.yaml:8:58: /timeline/0/for: expected a duration such as "90s", "20m" or "1.5h", got 25');
  });

  it('names missing and unknown fields', () => {
    const problems = problemsOf(`name: x
site: demo-ward
night: "2026-11-24"
from: "02:30"
timeline: []
expect: []
colour: blue
`);
    expect(problems).toContainEqual(expect.objectContaining({ path: '/to', message: 'required field missing' }));
    expect(problems).toContainEqual(
      expect.objectContaining({ path: '/colour', line: 7, message: expect.stringMatching(/^unknown field/) }),
    );
  });

  it('finds lines in JSON files too', () => {
    const problems = problemsOf(
      '{"name": "x", "site": "demo-ward",\n "night": "2026-11-24", "from": "02:30", "to": "04:00",\n "timeline": [],\n "expect": [{"rule": "tamper", "count": 0}]}\n',
      'x.json',
    );
    expect(problems).toEqual([expect.objectContaining({ path: '/expect/0/count', line: 4, column: 41 })]);
  });

  it('reports a YAML syntax error with its line', () => {
    expect(problemsOf('name: x\nsite: [\n')).toEqual([expect.objectContaining({ path: '', line: 3 })]);
    expect(problemsOf('name: x\nname: y\n')).toEqual([expect.objectContaining({ line: 2, message: expect.stringMatching(/unique/i) })]);
  });

  it('checks what the schema cannot: ids that exist, times inside the span, trips that overlap, a model that can do the fault', () => {
    const problems = problemsOf(`name: x
site:
  demoWard: { residents: 2 }
  plans:
    res-1: { rules: { bedExit: { enabled: true, priority: urgent } } }
sensors:
  door-2: { format: zigbee2mqtt, model: aqara-mccgq14lm }
  bed-2: { format: zigbee2mqtt, model: aqara-mccgq14lm }
night: "2026-11-24"
from: "02:00"
to: "04:00"
timeline: []
expect: []
`);
    expect(problems.map((p) => [p.line, p.path])).toEqual([[5, '/site/plans/res-1/rules/bedExit/priority']]);
    const more = problemsOf(`name: x
site:
  demoWard: { residents: 2 }
sensors:
  door-2: { format: zigbee2mqtt, model: aqara-mccgq14lm }
  bed-2: { format: zigbee2mqtt, model: aqara-mccgq14lm }
night: "2026-11-24"
from: "02:00"
to: "04:00"
timeline:
  - { at: "02:10", resident: res-7, does: toilet, for: 5m }
  - { at: "05:10", resident: res-1, does: toilet, for: 5m }
  - { at: "02:20", resident: res-2, does: toilet, for: 15m }
  - { at: "02:30", resident: res-2, does: toilet, for: 5m }
  - { at: "02:40", sensor: door-2, fault: tamper }
expect:
  - { rule: tamper, sensor: door-9 }
`);
    expect(more.map((p) => [p.line, p.path, p.message])).toEqual([
      [6, '/sensors/bed-2/model', 'aqara-mccgq14lm is a door sensor, bed-2 is a bed sensor'],
      [11, '/timeline/0/resident', 'no resident "res-7" in the site'],
      [12, '/timeline/1/at', "05:10 lies outside the scenario's span 02:00–04:00"],
      [15, '/timeline/4/fault', 'a aqara-mccgq14lm has no tamper switch (aoyan-ay101z and native sensors do)'],
      [14, '/timeline/3/at', 'res-2 leaves the bed at 02:30, before being back from the trip of 02:20 (/timeline/2)'],
      [17, '/expect/0/sensor', 'no sensor "door-9" in the site'],
    ]);
  });

  it('plays the same scenario on a later night with --night, for a gateway whose clock has moved on', () => {
    const later = compileScenario(VALID, { file: 'fall.yaml', night: '2026-12-01' });
    expect(later.expectations[0]?.from).toBe(Date.parse('2026-12-02T02:49:50Z'));
    const notes = (s: typeof later) => s.messages.filter((m) => m.note !== undefined).map((m) => [m.at, m.note]);
    expect(notes(later)).toEqual(
      notes(compileScenario(VALID, { file: 'fall.yaml' })).map(([at, note]) => [(at as number) + 7 * 86_400_000, note]),
    );
  });
});

describe('the built-in scenarios', () => {
  const dir = fileURLToPath(new URL('../scenarios/', import.meta.url));
  const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));

  it('cover every rule and every technical alarm', () => {
    const rules = new Set(
      files.flatMap((f) => compileScenario(readFileSync(`${dir}${f}`, 'utf8'), { file: f }).expectations.map((e) => e.rule)),
    );
    for (const rule of [
      'bed-exit',
      'out-of-bed-too-long',
      'door-open-at-night',
      'door-left-open',
      'not-in-bed-by',
      'sensor-silent',
      'sensor-offline',
      'low-battery',
      'tamper',
      'flapping',
    ]) {
      expect(rules, rule).toContain(rule);
    }
    expect(files).toEqual(expect.arrayContaining(['calm-night.yaml', 'dst-night.yaml']));
  });

  it('speak valid wire formats: native messages pass the protocol validators, unless meant to be malformed', () => {
    for (const file of files) {
      const scenario = compileScenario(readFileSync(`${dir}${file}`, 'utf8'), { file });
      for (const message of scenario.messages) {
        const topic = parseNativeTopic(message.topic);
        if (topic === null || message.raw !== undefined) continue;
        const check =
          topic.kind === 'availability' ? availabilityPayload.check(message.payload) : sensorStatePayload.check(message.payload);
        expect(check.ok, `${file} ${message.topic} ${JSON.stringify(message.payload)}`).toBe(true);
      }
    }
  });

  it('`check` accepts them all, and rejects a bad file with exit code 1 and file:line', async () => {
    const io = capture();
    expect(await runCommandLine(['check', ...files.map((f) => `${dir}${f}`)], io)).toBe(EXIT_OK);
    expect(io.stdout.split('\n').filter((l) => l.startsWith('ok ')).length).toBe(files.length);
    for (const command of ['check', 'verify', 'replay', 'load', 'selftest']) {
      const help = capture();
      expect(await runCommandLine([command, '--help'], help)).toBe(EXIT_OK);
      expect(help.stdout, command).toContain('Examples:');
    }
  });
});

function capture(): CommandLineIo & { stdout: string; stderr: string } {
  const io = {
    stdout: '',
    stderr: '',
    signal: new AbortController().signal,
    now: () => Date.parse('2026-11-24T15:00:00Z'),
    out: (text: string) => {
      io.stdout += text;
    },
    err: (text: string) => {
      io.stderr += text;
    },
  };
  return io;
}
