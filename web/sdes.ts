/**
 * The SDEs of the playground: the built-ins with their default parameters, and a VP-type SDE of a typed noise
 * rate β(t): dx = −½β(t)·x dt + √β(t) dw on [10⁻³, 1] (Song et al. 2021, eq. 11, with β of your choosing),
 * whose s(t) and σ(t) `linearSde` integrates numerically. Also the map from the t slider to time.
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { edmSde, type LinearSde, linearSde, subVpSde, veSde, vpSde } from "scoreflow";
import { parseExpression } from "./expression.js";

/** The SDE choices of the page. */
export type SdeChoice = "vp" | "ve" | "subvp" | "edm" | "custom";

/** The choices in menu order, with their labels. */
export const SDE_CHOICES: ReadonlyArray<readonly [SdeChoice, string]> = [
  ["vp", "VP (β from 0.1 to 20)"],
  ["ve", "VE (σ from 0.01 to 50)"],
  ["subvp", "sub-VP (β from 0.1 to 20)"],
  ["edm", "EDM (σ(t) = t, up to 80)"],
  ["custom", "custom β(t), VP-type"],
];

/** The default β(t) of the custom SDE: the VP SDE's linear rate, squared in t. */
export const DEFAULT_BETA = "0.1 + 19.9 t^2";

/** True when `value` names a choice. */
export const isSdeChoice = (value: string): value is SdeChoice => SDE_CHOICES.some(([c]) => c === value);

/**
 * The SDE of a choice; `beta` is the custom rate's text. A Left is one sentence for the page: the parse error,
 * or `linearSde`'s complaint (e.g. β < 0 somewhere on [0, 1], so that √β is not real).
 */
export const sdeOf = (choice: SdeChoice, beta: string): E.Either<string, LinearSde> => {
  const message = E.mapLeft((e: { readonly message: string }) => e.message);
  switch (choice) {
    case "vp":
      return message(vpSde());
    case "ve":
      return message(veSde());
    case "subvp":
      return message(subVpSde());
    case "edm":
      return message(edmSde());
    case "custom":
      return E.flatMap(
        E.mapLeft((e: { readonly message: string }) => `β(t): ${e.message}`)(parseExpression(beta)),
        (rate) =>
          message(
            linearSde({
              name: `β(t) = ${beta.trim()}`,
              f: (t) => -0.5 * rate(t),
              g: (t) => Math.sqrt(rate(t)),
              tMin: 1e-3,
              tMax: 1,
            }),
          ),
      );
  }
};

/** The slider's resolution: positions 0 … SLIDER_STEPS. */
export const SLIDER_STEPS = 1000;

/**
 * The time of a slider position u ∈ [0, 1]: t = u·tMax, except for EDM, whose noise level spans 0.002 to 80,
 * where t = tMax·u⁷ (the ρ = 7 spacing of Karras et al. 2022, eq. 5) spreads the interesting small σ over the
 * slider. u = 0 is the data itself (t = 0).
 */
export const timeOfSlider = (sde: LinearSde, u: number, choice: SdeChoice): number =>
  choice === "edm" ? sde.tMax * u ** 7 : sde.tMax * u;
