/** The large-scale notebook's findings are generated from the rows it shows, n/a where missing. */
import assert from "node:assert/strict";
import { largeScaleFindings } from "../lib/paper/mod.ts";

Deno.test("largeScaleFindings: per model and noise, from the rows; missing values n/a", () => {
  const row = (loss: string, noise: number, acc: number | null, nc1: number | null) => ({
    model: "resnet18",
    loss,
    label_noise: noise,
    seeds: 2,
    test_acc_mean: acc,
    nc1_train_mean: nc1,
  });
  const text = largeScaleFindings([
    row("CrossEntropy", 0, 0.9, 0.05),
    row("LS", 0, 0.91, 0.02),
    row("CrossEntropy", 0.2, 0.8, 1.5),
    row("LS", 0.2, null, 0.9),
  ]);
  assert.equal(
    text,
    "resnet18, clean labels (2 seeds): CE test 90.0 %, NC1 0.05; LS test 91.0 %, NC1 0.02. " +
      "Lowest NC1: LS; highest test accuracy: LS.\n" +
      "resnet18, label noise 0.2 (2 seeds): CE test 80.0 %, NC1 1.5; LS test n/a, NC1 0.9. " +
      "Lowest NC1: LS.",
  );
});
