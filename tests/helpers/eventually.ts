/**
 * Polls `probe` until it returns a truthy value and returns it; throws once `seconds` have
 * passed without one. The way to wait for something asynchronous (a worker, a queue, a
 * restarted dependency) without a fixed sleep: it returns as soon as the condition holds.
 */
export async function eventually<T>(
  probe: () => T | Promise<T>,
  seconds = 15,
  intervalMs = 100,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const value = await probe();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`condition not reached in ${seconds} s`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
