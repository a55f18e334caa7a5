/**
 * The first stage: builds the dataset (CIFAR-10 download or local archive,
 * image folder, or synthetic) and writes it in the format of
 * domain/data/format.ts. Downloads are cached under the checkpoint directory, so
 * a killed run resumes its download; outDir only becomes the artifact on success.
 */
import { join } from 'node:path';
import type { JsonObject, StageContext, StageInstance, StageKind } from '../engine/stage.js';
import { buildDataset, type DataOptions } from '../domain/data/build.js';
import type { DownloadProgress } from '../domain/data/download.js';
import { saveDataset } from '../domain/data/format.js';
import { dataId } from './ids.js';

export interface DataStageParams extends JsonObject {
  data: JsonObject;
  seed: number;
}

const MB = 1024 * 1024;

function downloadProgress(ctx: StageContext<DataStageParams>): (p: DownloadProgress) => void {
  return (p) =>
    ctx.progress({
      message: 'downloading CIFAR-10',
      current: p.bytes,
      total: p.total ?? undefined,
      unit: 'B',
      metrics: { 'MB/s': Math.round((p.bytesPerSecond / MB) * 100) / 100, ...(p.etaSeconds !== null ? { eta_s: Math.round(p.etaSeconds) } : {}) },
    });
}

const dataStage: StageKind<DataStageParams> = {
  kind: 'data',
  instances(params: JsonObject): StageInstance<DataStageParams>[] {
    const data = params.data;
    const seed = params.seed;
    if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new Error(`params.data must be an object, got ${JSON.stringify(data)}`);
    if (typeof seed !== 'number' || !Number.isInteger(seed)) throw new Error(`params.seed must be an integer, got ${JSON.stringify(seed)}`);
    const source = String(data.source);
    return [{ id: dataId(), params: { data, seed }, description: `dataset (${source}${data.archive ? `: ${String(data.archive)}` : ''})` }];
  },

  async run(ctx: StageContext<DataStageParams>): Promise<void> {
    const options = ctx.params.data as unknown as DataOptions;
    const started = Date.now();
    let lastDecodeReport = 0;
    const { dataset, selection, download } = await buildDataset(options, {
      seed: ctx.params.seed,
      cacheDir: join(ctx.checkpointDir, 'download'),
      onDownload: downloadProgress(ctx),
      onDecode: (done, total) => {
        const now = Date.now();
        if (done !== total && now - lastDecodeReport < options.download.progressIntervalMs) return;
        lastDecodeReport = now;
        ctx.progress({ message: 'decoding images', current: done, total, unit: 'img' });
      },
      log: (m) => ctx.log(m),
      signal: ctx.signal,
    });
    const built = Date.now();
    const info = await saveDataset(ctx.outDir, dataset, selection);
    const counts: JsonObject = {};
    for (const [split, c] of Object.entries(info.counts)) if (c) counts[split] = c.total;
    ctx.log(`${info.name} from ${info.source}${info.synthetic ? ' (SYNTHETIC)' : ''}: ${JSON.stringify(counts)}`);
    ctx.recordMeta({
      dataset: info.name,
      source: info.source,
      synthetic: info.synthetic,
      classNames: info.classNames,
      counts,
      buildMs: built - started,
      saveMs: Date.now() - built,
      download: download ? { bytes: download.bytes, attempts: download.attempts, resumedFrom: download.resumedFrom, cached: download.cached } : null,
    });
  },
};

export default dataStage;
