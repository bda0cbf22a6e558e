/**
 * Training progress: a bar with loss, it/s and ETA on a terminal, plain periodic lines when not a TTY (CI, logs),
 * and the JSON-lines log (one object per logged step: step, loss, lr, gradNorm, images/s).
 *
 * @module
 */
import { appendFileSync } from "node:fs";
import cliProgress from "cli-progress";

/** One logged step. */
export interface ProgressEntry {
  /** Steps taken. */
  readonly step: number;
  /** Minibatch loss. */
  readonly loss: number;
  /** Learning rate of the step. */
  readonly lr: number;
  /** Gradient norm before clipping. */
  readonly gradNorm: number;
}

/** A progress reporter: `update` after every step, `stop` at the end. */
export interface Progress {
  /** Records a step (the bar every step, the log every `logEvery`). */
  readonly update: (entry: ProgressEntry) => void;
  /** Ends the bar. */
  readonly stop: () => void;
}

/**
 * A reporter for `total` steps of `batchSize` examples starting at `start`: a bar on a TTY, a line every tenth
 * of the run otherwise; each `logEvery`-th step appended to `logPath` as JSON when given.
 */
export const progress = (options: {
  readonly total: number;
  readonly start: number;
  readonly batchSize: number;
  readonly logEvery: number;
  readonly logPath?: string;
  readonly label: string;
}): Progress => {
  const { total, start, batchSize, logEvery, logPath, label } = options;
  const t0 = performance.now();
  const tty = process.stderr.isTTY === true;
  const bar = tty
    ? new cliProgress.SingleBar(
        {
          format: `${label} [{bar}] {value}/{total} steps | loss {loss} | {rate} it/s | ETA {eta_formatted}`,
          hideCursor: true,
          stream: process.stderr,
        },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  bar?.start(total, start, { loss: "—", rate: "—" });
  const every = Math.max(1, Math.round((total - start) / 10));
  let smoothed = Number.NaN;
  return {
    update: (e) => {
      smoothed = Number.isNaN(smoothed) ? e.loss : 0.95 * smoothed + 0.05 * e.loss;
      const seconds = (performance.now() - t0) / 1000;
      const rate = (e.step - start) / seconds;
      if (bar !== undefined) bar.update(e.step, { loss: smoothed.toFixed(4), rate: rate.toFixed(1) });
      else if ((e.step - start) % every === 0 || e.step === total) {
        const eta = (total - e.step) / rate;
        process.stderr.write(
          `${label}: step ${e.step}/${total}  loss ${smoothed.toFixed(4)}  ${rate.toFixed(1)} it/s  ETA ${eta.toFixed(0)} s\n`,
        );
      }
      if (logPath !== undefined && e.step % logEvery === 0) {
        const line = { ...e, imagesPerSecond: rate * batchSize, seconds };
        appendFileSync(logPath, `${JSON.stringify(line)}\n`);
      }
    },
    stop: () => bar?.stop(),
  };
};
