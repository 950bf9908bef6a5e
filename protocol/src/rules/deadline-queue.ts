/** Something with a deadline that the queue keeps: `due` and `queueIndex` belong to the queue. */
export interface Scheduled {
  /** When it is due (site-clock ms), or null while nothing is pending. Read-only outside the queue. */
  due: number | null;
  /** Its position in the heap, -1 when not queued. Owned by the queue. */
  queueIndex: number;
}

/**
 * An indexed binary min-heap of deadlines: each item is in it at most once, and moving an item's
 * deadline is O(log n). The rule engine keeps one entry per resident and per sensor here, so a
 * tick finds what is due without looking at everything else.
 */
export class DeadlineQueue<T extends Scheduled> {
  readonly #heap: T[] = [];

  get size(): number {
    return this.#heap.length;
  }

  /** The earliest deadline, or null when nothing is pending. */
  peek(): number | null {
    return this.#heap[0]?.due ?? null;
  }

  /** Sets (or with null removes) an item's deadline. */
  set(item: T, due: number | null): void {
    item.due = due;
    const at = item.queueIndex;
    if (due === null) {
      if (at >= 0) this.#removeAt(at);
      return;
    }
    if (at < 0) {
      item.queueIndex = this.#heap.length;
      this.#heap.push(item);
      this.#up(item.queueIndex);
      return;
    }
    this.#up(at);
    this.#down(item.queueIndex);
  }

  /** Removes and returns every item due at or before `now` (in no particular order); their `due` is left as it was. */
  takeDue(now: number, into: T[] = []): T[] {
    for (;;) {
      const top = this.#heap[0];
      if (top === undefined || (top.due as number) > now) return into;
      this.#removeAt(0);
      into.push(top);
    }
  }

  /** Empties the queue. */
  clear(): void {
    for (const item of this.#heap) item.queueIndex = -1;
    this.#heap.length = 0;
  }

  #removeAt(at: number): void {
    const heap = this.#heap;
    const removed = heap[at] as T;
    removed.queueIndex = -1;
    const last = heap.pop() as T;
    if (at === heap.length) return;
    heap[at] = last;
    last.queueIndex = at;
    this.#up(at);
    this.#down(last.queueIndex);
  }

  #up(at: number): void {
    const heap = this.#heap;
    const item = heap[at] as T;
    const due = item.due as number;
    while (at > 0) {
      const parentAt = (at - 1) >> 1;
      const parent = heap[parentAt] as T;
      if ((parent.due as number) <= due) break;
      heap[at] = parent;
      parent.queueIndex = at;
      at = parentAt;
    }
    heap[at] = item;
    item.queueIndex = at;
  }

  #down(at: number): void {
    const heap = this.#heap;
    const n = heap.length;
    const item = heap[at] as T;
    const due = item.due as number;
    for (;;) {
      const left = 2 * at + 1;
      if (left >= n) break;
      const right = left + 1;
      let child = left;
      if (right < n && ((heap[right] as T).due as number) < ((heap[left] as T).due as number)) child = right;
      const smaller = heap[child] as T;
      if ((smaller.due as number) >= due) break;
      heap[at] = smaller;
      smaller.queueIndex = at;
      at = child;
    }
    heap[at] = item;
    item.queueIndex = at;
  }
}
