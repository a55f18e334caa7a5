/**
 * Worker set-up, run once per worker process before its first stage instance:
 * picks the compute backend from `compute.backend` (or TRIGGER_LAB_BACKEND) and
 * reports it, so that every meta.json says which backend produced it. The
 * backend is deliberately not part of any cache key.
 */
import type { JsonObject } from '../engine/stage.js';
import { describeBackend, selectBackend, type BackendChoice } from '../domain/backend/select.js';

export async function setup(params: JsonObject): Promise<JsonObject> {
  const compute = (params.compute ?? {}) as { backend?: BackendChoice };
  const info = await selectBackend(compute.backend ?? 'auto');
  // `summary` is the one line `repro` prints; the rest stays in each artifact's meta.json.
  return { summary: info.detail, ...describeBackend(info) };
}
