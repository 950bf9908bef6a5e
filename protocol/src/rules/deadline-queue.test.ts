import { describe, expect, it } from 'vitest';
import { DeadlineQueue, type Scheduled } from './deadline-queue.js';

interface Item extends Scheduled {
  name: number;
}

describe('DeadlineQueue', () => {
  it('agrees with a plain list under random sets, moves, removals and takes (seeded)', () => {
    let seed = 7;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const items: Item[] = Array.from({ length: 60 }, (_, name) => ({ name, due: null, queueIndex: -1 }));
    const queue = new DeadlineQueue<Item>();
    const reference = new Map<number, number>(); // name → due
    for (let step = 0; step < 20_000; step++) {
      const item = items[Math.floor(random() * items.length)] as Item;
      const roll = random();
      if (roll < 0.6) {
        const due = Math.floor(random() * 1000);
        queue.set(item, due);
        reference.set(item.name, due);
      } else if (roll < 0.8) {
        queue.set(item, null);
        reference.delete(item.name);
      } else {
        const now = Math.floor(random() * 1000);
        const taken = queue.takeDue(now).map((i) => [i.name, i.due]);
        const expected = [...reference].filter(([, due]) => due <= now);
        expect(taken.sort((a, b) => Number(a[0]) - Number(b[0]))).toEqual(expected.sort((a, b) => a[0] - b[0]));
        for (const [name] of expected) reference.delete(name);
        for (const [name] of taken) expect((items[Number(name)] as Item).queueIndex).toBe(-1);
      }
      expect(queue.size).toBe(reference.size);
      expect(queue.peek()).toBe(reference.size === 0 ? null : Math.min(...reference.values()));
    }
    queue.clear();
    expect([queue.size, queue.peek(), items.every((i) => i.queueIndex === -1)]).toEqual([0, null, true]);
  });
});
