import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import { orThrow } from "../../src/core/errors.js";
import { rngKey } from "../../src/core/rng.js";
import { initParameters } from "../../src/nets/network.js";
import { loadModelFile, saveModelFile } from "../../src/node/model-file.js";
import { smallMlp } from "../support/nets-fixtures.js";

describe("sampling-only model files", () => {
  const weights = initParameters(smallMlp(), orThrow(rngKey(4)));
  const model = { network: { kind: "mlp" }, note: "any JSON" };
  const provenance = { step: 12, command: "npx scoreflow train …" };

  it("round-trips weights bit for bit with the description and provenance", async () => {
    const dir = join(mkdtempSync(join(tmpdir(), "sf-model-")), "m");
    orThrow(await saveModelFile(dir, { model, provenance, weights }));
    const back = orThrow(await loadModelFile(dir));
    expect(back.model).toEqual(model);
    expect(back.provenance).toEqual(provenance);
    expect([...back.weights.keys()].sort()).toEqual([...weights.keys()].sort());
    for (const [name, t] of weights) expect(back.weights.get(name)?.data).toEqual(t.data);
  });

  it("refuses weights whose bytes changed after export, naming the file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sf-model-"));
    orThrow(await saveModelFile(dir, { model, provenance, weights }));
    const path = join(dir, "weights.safetensors");
    const bytes = readFileSync(path);
    bytes[bytes.length - 1] ^= 1;
    writeFileSync(path, bytes);
    const r = await loadModelFile(dir);
    expect(E.isLeft(r) && r.left.field).toBe(path);
  });

  it("refuses a directory without a manifest, and a manifest of another format", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sf-model-"));
    expect(E.isLeft(await loadModelFile(dir))).toBe(true);
    writeFileSync(join(dir, "model.json"), JSON.stringify({ format: "something-else" }));
    const r = await loadModelFile(dir);
    expect(E.isLeft(r) && r.left.rule).toMatch(/scoreflow-model manifest/);
  });
});
