/**
 * The two NumPy float64 primitives that diffusers builds its schedules and timesteps from, replicated bit for
 * bit so that numbers carry over from Python exactly: `numpy.linspace` and `numpy.rint` (round half to even).
 *
 * @module
 */

/**
 * `numpy.linspace(start, stop, num)` with the endpoint included, in float64 and in NumPy's order of operations:
 * y_i = i·step + start with step = (stop − start)/(num − 1), then y_{num−1} = stop exactly; `[start]` when
 * num = 1. When step underflows to 0 NumPy computes (i/(num − 1))·(stop − start) instead, and so does this.
 *
 * num: integer ≥ 1. Source: NumPy, `numpy/_core/function_base.py`, `linspace`.
 *
 * @category Discrete
 */
export const linspace = (start: number, stop: number, num: number): Float64Array => {
  const y = new Float64Array(num);
  const div = num - 1;
  if (div === 0) {
    y[0] = start;
    return y;
  }
  const delta = stop - start;
  const step = delta / div;
  for (let i = 0; i < num; i++) y[i] = (step === 0 ? (i / div) * delta : i * step) + start;
  y[div] = stop;
  return y;
};

/**
 * `numpy.rint` / `numpy.round(x)`: the nearest integer, halves rounded to the even neighbour
 * (IEEE 754 roundTiesToEven), e.g. 0.5 → 0, 1.5 → 2, 2.5 → 2. `Math.round` sends every half up instead.
 *
 * x: any finite number. Source: IEEE 754-2019 §5.9, `roundToIntegralTiesToEven`.
 *
 * @category Discrete
 */
export const roundHalfEven = (x: number): number => {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
};
