/** Milliseconds per call: the best of 3 batches, each at least 5 ms long (for linearity ratios). */
export function perCall(fn: () => void): number {
  let best = Number.POSITIVE_INFINITY;
  for (let batch = 0; batch < 3; batch++) {
    const start = performance.now();
    let n = 0;
    do {
      fn();
      n++;
    } while (performance.now() - start < 5);
    best = Math.min(best, (performance.now() - start) / n);
  }
  return best;
}
