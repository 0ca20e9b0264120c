import { describe, expect, it } from "vitest";
import { IndexedHeap } from "../../../src/scheduler/strategy/heap.js";

interface Item {
  heapIndex: number;
  key: number;
  name: number;
}

describe("IndexedHeap", () => {
  it("keeps the least item on top through pushes, updates and removals", () => {
    let seed = 42;
    const rand = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    const less = (a: Item, b: Item): boolean => a.key < b.key || (a.key === b.key && a.name < b.name);
    const items: Item[] = Array.from({ length: 50 }, (_, i) => ({ heapIndex: -1, key: rand(20), name: i }));
    const heap = new IndexedHeap(less, items.slice(0, 25));
    const live = new Set(items.slice(0, 25));
    for (let step = 0; step < 2000; step++) {
      const op = rand(4);
      const item = items[rand(items.length)]!;
      if (op === 0 && !live.has(item)) {
        heap.push(item);
        live.add(item);
      } else if (op === 1 && live.has(item)) {
        heap.remove(item);
        live.delete(item);
        expect(item.heapIndex).toBe(-1);
      } else if (live.has(item)) {
        item.key = rand(20);
        heap.update(item);
      }
      const min = [...live].sort((a, b) => (less(a, b) ? -1 : 1))[0];
      expect(heap.peek()).toBe(min);
      expect(heap.size).toBe(live.size);
    }
    const popped: Item[] = [];
    for (let i = heap.pop(); i !== undefined; i = heap.pop()) popped.push(i);
    expect(popped).toEqual([...live].sort((a, b) => (less(a, b) ? -1 : 1)));
  });

  it("ignores removal of an item it does not hold", () => {
    const heap = new IndexedHeap<Item>((a, b) => a.key < b.key);
    const stray = { heapIndex: -1, key: 1, name: 1 };
    heap.remove(stray);
    expect(heap.size).toBe(0);
    expect(heap.peek()).toBeUndefined();
  });
});
