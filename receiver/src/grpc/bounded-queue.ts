// receiver/src/grpc/bounded-queue.ts
// A fixed-capacity FIFO (ring buffer): push refuses when full so the producer can count a drop.

export class BoundedQueue<T> {
  private readonly _items: (T | undefined)[];
  private _head = 0;
  private _size = 0;

  constructor(readonly capacity: number) {
    this._items = new Array<T | undefined>(capacity);
  }

  get size(): number {
    return this._size;
  }

  /** Appends; false (and nothing stored) when the queue is full. */
  push(item: T): boolean {
    if (this._size >= this.capacity) return false;
    this._items[(this._head + this._size) % this.capacity] = item;
    this._size++;
    return true;
  }

  /** Removes and returns the oldest item. */
  shift(): T | undefined {
    if (this._size === 0) return undefined;
    const item = this._items[this._head];
    this._items[this._head] = undefined;
    this._head = (this._head + 1) % this.capacity;
    this._size--;
    return item;
  }

  clear(): void {
    this._items.fill(undefined);
    this._head = 0;
    this._size = 0;
  }
}
