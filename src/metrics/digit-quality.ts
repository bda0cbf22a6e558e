/**
 * Sample quality of generated images measured by a classifier, for data with known classes (MNIST digits): a
 * model that covers the data covers every class, in about the data's proportions (mode coverage), and draws
 * images the classifier recognizes (confidence). From the class probabilities p [N, K] of N samples:
 *   ĉₙ = argmaxₖ pₙₖ,   hₖ = #{n : ĉₙ = k},   coverage = #{k : hₖ ≥ 1},
 *   confidence = (1/N) Σₙ maxₖ pₙₖ,   H = −Σₖ fₖ ln fₖ  with fₖ = hₖ/N  (0·ln 0 = 0).
 * H is the entropy of the predicted-class histogram, in nats: 0 when every sample is one class (mode collapse),
 * ln K when the classes are equally frequent: ln 10 = 2.3026 against 2.3008 for the labels of the MNIST test
 * split (whose classes hold 8.9–11.4% of it).
 * The two numbers play the roles of the two halves of the Inception score (Salimans et al. 2016), reported
 * apart rather than folded into one: confident predictions (there a low conditional entropy H(y|x), here a high
 * mean max-probability) and a diverse marginal (there a high H(y) of the mean prediction, here of the argmax
 * histogram).
 *
 * Sources: Salimans et al., "Improved Techniques for Training GANs", NeurIPS 2016, §4 (the Inception score
 * exp E[KL(p(y|x) ‖ p(y))]); Metz et al., "Unrolled Generative Adversarial Networks", ICLR 2017 (counting the
 * modes a generator covers with a pretrained classifier, on stacked MNIST); Cover & Thomas, "Elements of
 * Information Theory", 2nd ed. 2006, eq. 2.1 and Thm. 2.6.4 (entropy, H ≤ ln K).
 *
 * @module
 */
import type { Storage, Tensor } from "../core/tensor.js";

/**
 * What a classifier says about a set of samples.
 *
 * @category Metrics
 */
export interface DigitQuality {
  /** N, the number of samples. */
  readonly samples: number;
  /** hₖ, how many samples have class k as their most probable class (ties go to the lower k); sums to N. */
  readonly histogram: readonly number[];
  /** #{k : hₖ ≥ 1}, the classes predicted for at least one sample, in [1, K]. */
  readonly covered: number;
  /** (1/N) Σₙ maxₖ pₙₖ, the mean probability of the predicted class, in [1/K, 1]. */
  readonly meanConfidence: number;
  /** −Σₖ fₖ ln fₖ, fₖ = hₖ/N, the entropy of the histogram in nats, in [0, ln K] (ln K: all classes equal). */
  readonly histogramEntropy: number;
}

/** The index of the largest entry of row r of a table with k columns (the first one on ties). */
const argmaxRow = (data: Storage, r: number, k: number): number => {
  let best = 0;
  for (let j = 1; j < k; j++) if (data[r * k + j] > data[r * k + best]) best = j;
  return best;
};

/**
 * Class coverage, histogram, mean confidence and histogram entropy (see the module notes) of samples from their
 * class probabilities p [N, K] (rows in the simplex: e.g. the softmax of a classifier's logits). Rules (not
 * checked): N ≥ 1, K ≥ 1, finite entries.
 *
 * Source: Salimans et al. 2016, §4; Cover & Thomas 2006, eq. 2.1.
 *
 * @category Metrics
 */
export const digitQuality = (probabilities: Tensor<Storage>): DigitQuality => {
  const [n, k] = probabilities.shape;
  const p = probabilities.data;
  const histogram = new Array<number>(k).fill(0);
  let confidence = 0;
  for (let r = 0; r < n; r++) {
    const c = argmaxRow(p, r, k);
    histogram[c] += 1;
    confidence += p[r * k + c];
  }
  const histogramEntropy = histogram.reduce(
    (h, count) => (count > 0 ? h - (count / n) * Math.log(count / n) : h),
    0,
  );
  return {
    samples: n,
    histogram,
    covered: histogram.filter((count) => count > 0).length,
    meanConfidence: confidence / n,
    histogramEntropy,
  };
};

/**
 * The accuracy of a classifier on labeled data: the fraction of rows n whose largest score (probability or
 * logit: the argmax is the same) is at column yₙ, (1/N) Σₙ [argmaxₖ sₙₖ = yₙ] ∈ [0, 1]; ties go to the lower
 * class. Rules (not checked): scores [N, K] with N ≥ 1, one label per row.
 *
 * @category Metrics
 */
export const classifierAccuracy = (scores: Tensor<Storage>, labels: ArrayLike<number>): number => {
  const [n, k] = scores.shape;
  let correct = 0;
  for (let r = 0; r < n; r++) if (argmaxRow(scores.data, r, k) === labels[r]) correct += 1;
  return correct / n;
};
