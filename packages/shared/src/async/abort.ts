// Cancellation helpers built on AbortSignal.

/** Throws the signal's reason when it has aborted. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  signal?.throwIfAborted();
}

/** A signal that aborts when any of `signals` aborts or after `timeoutMs`, whichever is first. */
export function withDeadline(timeoutMs: number, ...signals: (AbortSignal | undefined)[]): AbortSignal {
  const all = signals.filter((s): s is AbortSignal => s !== undefined);
  return AbortSignal.any([...all, AbortSignal.timeout(timeoutMs)]);
}

/** Resolves with `promise`, or rejects with the signal's reason when it aborts first. */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(err as Error);
      },
    );
  });
}
