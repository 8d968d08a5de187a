// The batcher's waiting room: one FIFO per priority level (level 0 is served
// first), plus an index of deadlines so the earliest timeout is found without
// scanning. Every operation the batcher needs is O(1) or O(log n), because
// cancellations and timeouts remove entries from the middle of a queue.

// Links an entry carries while it is queued; the batcher's record extends it.
export class QueueEntry {
  prev: QueueEntry | null = null;
  next: QueueEntry | null = null;
  heapIndex = -1; // position in the deadline heap; -1 = not in it
  queued = false;

  constructor(
    readonly level: number, // 0-based priority level; 0 is served first
    readonly deadlineUs: number, // 0 = no timeout
    readonly units = 1, // batch units it takes (its first dimension), for wait estimates
  ) {}
}

interface Fifo {
  head: QueueEntry | null;
  tail: QueueEntry | null;
}

export class PriorityQueue<E extends QueueEntry> {
  private readonly levels: Fifo[];
  private readonly deadlines: E[] = []; // binary min-heap on deadlineUs
  private readonly levelUnits: number[]; // batch units queued per level
  private count = 0;

  constructor(levelCount: number) {
    this.levels = Array.from({ length: Math.max(1, levelCount) }, () => ({ head: null, tail: null }));
    this.levelUnits = this.levels.map(() => 0);
  }

  // Batch units queued at `level` or a higher priority (a lower index): what
  // is served before a request pushed at that level now.
  unitsUpTo(level: number): number {
    let units = 0;
    for (let i = 0; i <= level && i < this.levelUnits.length; i++) units += this.levelUnits[i];
    return units;
  }

  get size(): number {
    return this.count;
  }

  push(entry: E): void {
    if (entry.queued) throw new Error('entry is already queued');
    const fifo = this.levels[entry.level];
    if (!fifo) throw new RangeError(`no priority level ${entry.level}`);
    entry.prev = fifo.tail;
    entry.next = null;
    if (fifo.tail) fifo.tail.next = entry;
    else fifo.head = entry;
    fifo.tail = entry;
    entry.queued = true;
    this.count += 1;
    this.levelUnits[entry.level] += entry.units;
    if (entry.deadlineUs > 0) this.heapPush(entry);
  }

  // Removes an entry from anywhere in the queue; false if it was not queued.
  remove(entry: E): boolean {
    if (!entry.queued) return false;
    const fifo = this.levels[entry.level];
    if (entry.prev) entry.prev.next = entry.next;
    else fifo.head = entry.next;
    if (entry.next) entry.next.prev = entry.prev;
    else fifo.tail = entry.prev;
    entry.prev = entry.next = null;
    entry.queued = false;
    this.count -= 1;
    this.levelUnits[entry.level] -= entry.units;
    if (entry.heapIndex >= 0) this.heapRemove(entry);
    return true;
  }

  // The first `limit` entries in service order (level, then arrival).
  peek(limit: number): E[] {
    const out: E[] = [];
    for (const fifo of this.levels) {
      for (let e = fifo.head; e && out.length < limit; e = e.next) out.push(e as E);
      if (out.length >= limit) break;
    }
    return out;
  }

  // Every queued entry in service order (a snapshot; safe to remove while iterating).
  all(): E[] {
    return this.peek(this.count);
  }

  // The queued entry whose deadline comes first, if any has one.
  earliestDeadline(): E | undefined {
    return this.deadlines[0];
  }

  private heapPush(entry: E): void {
    entry.heapIndex = this.deadlines.length;
    this.deadlines.push(entry);
    this.siftUp(entry.heapIndex);
  }

  private heapRemove(entry: E): void {
    const index = entry.heapIndex;
    const last = this.deadlines.pop() as E;
    entry.heapIndex = -1;
    if (last === entry) return;
    this.deadlines[index] = last;
    last.heapIndex = index;
    this.siftUp(index);
    this.siftDown(last.heapIndex);
  }

  private siftUp(index: number): void {
    const heap = this.deadlines;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (heap[parent].deadlineUs <= heap[index].deadlineUs) return;
      this.swap(index, parent);
      index = parent;
    }
  }

  private siftDown(index: number): void {
    const heap = this.deadlines;
    for (;;) {
      const left = 2 * index + 1;
      const right = left + 1;
      let smallest = index;
      if (left < heap.length && heap[left].deadlineUs < heap[smallest].deadlineUs) smallest = left;
      if (right < heap.length && heap[right].deadlineUs < heap[smallest].deadlineUs) smallest = right;
      if (smallest === index) return;
      this.swap(index, smallest);
      index = smallest;
    }
  }

  private swap(a: number, b: number): void {
    const heap = this.deadlines;
    const entryA = heap[a];
    heap[a] = heap[b];
    heap[b] = entryA;
    heap[a].heapIndex = a;
    heap[b].heapIndex = b;
  }
}
