/**
 * The stage kinds of this pipeline, as module paths relative to the repo root;
 * each module's default export is a StageKind. Keep this file free of imports:
 * the CLI reads it on every start.
 */
export const stageModules: string[] = [
  'stages/data.ts',
  'stages/train.ts',
  'stages/lc-poison.ts',
  'stages/uap.ts',
  'stages/autoencoder.ts',
  'stages/evaluate.ts',
  'stages/fine-pruning.ts',
  'stages/neural-cleanse.ts',
  'stages/sensitivity.ts',
  'stages/saliency.ts',
  'stages/cdrp.ts',
  'stages/physical.ts',
  'stages/figure.ts',
  'stages/table.ts',
  'stages/report.ts',
];
