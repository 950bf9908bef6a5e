// @vitest-environment happy-dom
import type { Alarm } from '@nattevakt/protocol/alarm';
import { act, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { PAUSE_MS, useAlarmSound } from '../alarm-sound/useAlarmSound.js';
import { alarm } from '../test-support/ward.js';
import { SoundControl } from './SoundControl.js';

/**
 * happy-dom has no WebAudio: a minimal AudioContext that starts suspended, runs once resumed
 * (as after the "Start vakt" tap), and counts the oscillators it starts (one per pulse) and
 * their pitch, so the test hears what the tablet would play.
 */
const played: number[] = [];
class CountingAudioContext extends EventTarget {
  state: AudioContextState = 'suspended';
  currentTime = 0;
  destination = {};
  async resume() {
    this.state = 'running';
    this.dispatchEvent(new Event('statechange'));
  }
  createGain() {
    const node = { gain: { setValueAtTime() {}, linearRampToValueAtTime() {} }, connect: (next: unknown) => next };
    return node;
  }
  createOscillator() {
    const oscillator = {
      type: 'sine',
      frequency: { value: 0 },
      connect: (next: unknown) => next,
      start: () => played.push(oscillator.frequency.value),
      stop() {},
    };
    return oscillator;
  }
}

beforeAll(() => {
  (window as unknown as { AudioContext: unknown }).AudioContext = CountingAudioContext;
});
beforeEach(() => {
  played.length = 0;
});
afterEach(() => {
  vi.useRealTimers();
});

function Board({ alarms, linkDown = false }: { alarms: Alarm[]; linkDown?: boolean }) {
  const sound = useAlarmSound({ openAlarms: alarms, linkDown, disconnectedSince: linkDown ? Date.now() : null, gatewayDown: false });
  return (
    <div data-testid="board" data-sound={sound.playing ?? 'none'}>
      <SoundControl sound={sound} />
    </div>
  );
}

const sounding = () => screen.getByTestId('board').dataset.sound;
const HIGH_HZ = 880;
const MEDIUM_HZ = 660;

describe('the alarm sound and its pause', () => {
  it('is off until a tap turns it on, then sounds the high burst; a pause silences it and it re-alarms by itself after two minutes', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'setInterval', 'clearTimeout', 'clearInterval', 'Date'] });
    render(<Board alarms={[alarm({ id: 'a', priority: 'high' })]} />);
    expect(screen.getByTestId('enable-sound').textContent).toBe('Lyden er av – trykk for å slå på');
    expect(sounding()).toBe('none');

    await act(async () => {
      fireEvent.click(screen.getByTestId('enable-sound'));
    });
    expect(sounding()).toBe('high');
    // IEC 60601-1-8 high priority: a burst of 10 pulses, repeated.
    expect(played.filter((hz) => hz === HIGH_HZ)).toHaveLength(10);
    await act(() => vi.advanceTimersByTimeAsync(6000));
    expect(played.filter((hz) => hz === HIGH_HZ)).toHaveLength(20);

    fireEvent.click(screen.getByTestId('pause-sound'));
    expect(sounding()).toBe('none');
    expect(screen.getByTestId('sound-paused').textContent).toBe('Lyd pauset 2:00');
    const before = played.length;
    await act(() => vi.advanceTimersByTimeAsync(PAUSE_MS - 1000));
    expect(played.length).toBe(before);
    expect(screen.getByTestId('sound-paused').textContent).toBe('Lyd pauset 0:01');

    await act(() => vi.advanceTimersByTimeAsync(1000));
    expect(sounding()).toBe('high');
    expect(screen.getByTestId('pause-sound')).toBeTruthy();
    expect(played.length).toBe(before + 10);
  });

  it('a new alarm during a pause ends the pause at once', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'setInterval', 'clearTimeout', 'clearInterval', 'Date'] });
    const first = alarm({ id: 'a', priority: 'medium' });
    const { rerender } = render(<Board alarms={[first]} />);
    if (screen.queryByTestId('enable-sound')) {
      await act(async () => {
        fireEvent.click(screen.getByTestId('enable-sound'));
      });
    }
    expect(sounding()).toBe('medium');
    fireEvent.click(screen.getByTestId('pause-sound'));
    expect(sounding()).toBe('none');
    played.length = 0;
    // The same alarm again (a new version) does not end the pause.
    rerender(<Board alarms={[{ ...first, seq: 2 }]} />);
    await act(() => vi.advanceTimersByTimeAsync(10_000));
    expect(played).toEqual([]);

    rerender(<Board alarms={[first, alarm({ id: 'b', roomId: 'room-102', priority: 'high' })]} />);
    await act(() => vi.advanceTimersByTimeAsync(0));
    expect(sounding()).toBe('high');
    expect(played.filter((hz) => hz === HIGH_HZ)).toHaveLength(10);
    expect(played).not.toContain(MEDIUM_HZ);
  });

  it('an acknowledged alarm is quiet: someone is on the way', async () => {
    render(<Board alarms={[alarm({ id: 'a', status: 'acknowledged', acknowledgedBy: 'Kari' })]} />);
    if (screen.queryByTestId('enable-sound')) {
      await act(async () => {
        fireEvent.click(screen.getByTestId('enable-sound'));
      });
    }
    expect(sounding()).toBe('none');
    expect(screen.getByText('Lyd på')).toBeTruthy();
    expect(played).toEqual([]);
  });
});
