// Samples a number (e.g. running containers across hosts) again and again while an action runs,
// to check bounds that must hold all along (a rolling update never below N running, say).
export interface Samples<T> {
  readonly result: T;
  readonly min: number;
  readonly max: number;
  readonly count: number;
}

export async function sampleWhile<T>(
  probe: () => Promise<number>,
  action: () => Promise<T>,
  intervalMs = 150,
): Promise<Samples<T>> {
  const values: number[] = [];
  let stop = false;
  const loop = (async () => {
    while (!stop) {
      values.push(await probe());
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  })();
  let result: T;
  try {
    result = await action();
  } finally {
    stop = true;
    await loop;
  }
  return { result, min: Math.min(...values), max: Math.max(...values), count: values.length };
}
