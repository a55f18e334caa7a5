/**
 * The stage kinds of this pipeline, as module paths relative to the repo root
 * (e.g. 'stages/train.ts'); each module's default export is a StageKind.
 * Keep this file free of imports: the CLI reads it on every start.
 */
export const stageModules: string[] = [];
