/**
 * A bounded cache of compiled kernels: a GPU.js kernel is compiled per geometry (its sizes are constants), and a
 * caller sweeping sizes (the playground's particle count, a sampler's batch) would otherwise keep a shader
 * program per size. The least recently used entry is destroyed when a new one would exceed the capacity.
 *
 * @module
 */

/**
 * Compiled kernels by key, at most `capacity` of them.
 *
 * @category Networks
 */
export interface KernelCache<K> {
  /** The entry for `key`, compiled by `make` on a miss; marks it the most recently used. */
  readonly get: (key: string, make: () => K) => K;
  /** How many entries are kept. */
  readonly size: () => number;
  /** Destroys every entry. */
  readonly clear: () => void;
}

/**
 * An empty {@link KernelCache} that destroys evicted and cleared entries with `destroy`.
 *
 * @category Networks
 */
export const kernelCache = <K>(capacity: number, destroy: (kernel: K) => void): KernelCache<K> => {
  const entries = new Map<string, K>();
  return {
    get: (key, make) => {
      const hit = entries.get(key);
      if (hit !== undefined) {
        // most recently used last, so that eviction takes the least recently used
        entries.delete(key);
        entries.set(key, hit);
        return hit;
      }
      if (entries.size >= capacity) {
        const [oldest, kernel] = entries.entries().next().value!;
        entries.delete(oldest);
        destroy(kernel);
      }
      const made = make();
      entries.set(key, made);
      return made;
    },
    size: () => entries.size,
    clear: () => {
      for (const kernel of entries.values()) destroy(kernel);
      entries.clear();
    },
  };
};
