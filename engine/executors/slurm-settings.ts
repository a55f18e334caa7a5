/**
 * The `executor` slice of the params: which executor runs the stages, and for
 * Slurm the resources each stage kind asks for. Read from the already
 * validated params, but checked again here because the engine's tests and
 * other pipelines may hand in params that were validated against another schema.
 */
import { UserError } from '../errors.js';
import type { Json, JsonObject } from '../stage.js';

export type ExecutorType = 'local' | 'slurm';
export const EXECUTOR_TYPES: ExecutorType[] = ['local', 'slurm'];

/** What one Slurm job asks for. */
export interface SlurmResources {
  cpus: number;
  memoryMB: number;
  gpus: number;
  /** Slurm time limit, e.g. "30", "02:00:00" or "1-00:00:00". */
  time: string;
  /** Empty: the cluster's default partition. */
  partition: string;
  /** Passed to sbatch as they are, e.g. ["--qos=short", "--constraint=a100"]. */
  extraArgs: string[];
}

export interface SlurmSettings {
  /** How often squeue is asked about our jobs (one call per interval for all of them). */
  pollIntervalMs: number;
  /** How many jobs may be queued or running at once. */
  maxSubmitted: number;
  /** How long to wait for a finished job's artifact to appear on the shared filesystem. */
  visibilityTimeoutMs: number;
  /** How long squeue may keep failing (controller restart, network) before our jobs are given up as lost. */
  controllerTimeoutMs: number;
  logTailLines: number;
  /** Prefix of every job name, followed by the run id and the instance id. */
  jobNamePrefix: string;
  defaults: SlurmResources;
  /** Per stage kind, overriding `defaults` field by field. */
  kinds: Record<string, Partial<SlurmResources>>;
}

export interface ExecutorParams {
  type: ExecutorType;
  slurm: SlurmSettings;
}

export const DEFAULT_SLURM_SETTINGS: SlurmSettings = {
  pollIntervalMs: 2000,
  maxSubmitted: 200,
  visibilityTimeoutMs: 60_000,
  controllerTimeoutMs: 300_000,
  logTailLines: 25,
  jobNamePrefix: 'tl',
  defaults: { cpus: 1, memoryMB: 4000, gpus: 0, time: '04:00:00', partition: '', extraArgs: [] },
  kinds: {},
};

const TIME_RE = /^(\d+-)?\d+(:\d{1,2}){0,2}$|^UNLIMITED$|^INFINITE$/;
const RESOURCE_KEYS: (keyof SlurmResources)[] = ['cpus', 'memoryMB', 'gpus', 'time', 'partition', 'extraArgs'];

const isObject = (v: Json | undefined): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

function checkInt(where: string, v: Json | undefined, min: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
    throw new UserError(`${where} is ${JSON.stringify(v)}: expected a whole number >= ${min}`);
  }
  return v;
}

function checkResources(where: string, v: Json | undefined, partial: boolean): Partial<SlurmResources> {
  if (!isObject(v)) throw new UserError(`${where} is ${JSON.stringify(v)}: expected an object with ${RESOURCE_KEYS.join(', ')}`);
  const out: Partial<SlurmResources> = {};
  for (const [k, value] of Object.entries(v)) {
    const at = `${where}.${k}`;
    switch (k) {
      case 'cpus':
        out.cpus = checkInt(at, value, 1);
        break;
      case 'memoryMB':
        out.memoryMB = checkInt(at, value, 1);
        break;
      case 'gpus':
        out.gpus = checkInt(at, value, 0);
        break;
      case 'time':
        if (typeof value !== 'string' || !TIME_RE.test(value)) {
          throw new UserError(`${at} is ${JSON.stringify(value)}: expected a Slurm time limit such as "30" (minutes), "02:00:00", "1-00:00:00" or "UNLIMITED"`);
        }
        out.time = value;
        break;
      case 'partition':
        if (typeof value !== 'string' || /\s/.test(value)) throw new UserError(`${at} is ${JSON.stringify(value)}: expected a partition name without spaces ("" for the default)`);
        out.partition = value;
        break;
      case 'extraArgs':
        if (!Array.isArray(value) || value.some((a) => typeof a !== 'string' || !a.startsWith('-'))) {
          throw new UserError(`${at} is ${JSON.stringify(value)}: expected a list of sbatch options, each starting with "-"`);
        }
        out.extraArgs = value as string[];
        break;
      default:
        throw new UserError(`${at}: unknown resource ${JSON.stringify(k)}; allowed: ${RESOURCE_KEYS.join(', ')}`);
    }
  }
  if (!partial) for (const k of RESOURCE_KEYS) if (out[k] === undefined) throw new UserError(`${where}.${k} is missing`);
  return out;
}

/** The executor settings in `params.executor`, with defaults for what is absent. */
export function readExecutorParams(params: JsonObject): ExecutorParams {
  const raw = params.executor;
  if (raw === undefined) return { type: 'local', slurm: DEFAULT_SLURM_SETTINGS };
  if (!isObject(raw)) throw new UserError(`executor is ${JSON.stringify(raw)}: expected an object`);
  const type = raw.type ?? 'local';
  if (typeof type !== 'string' || !EXECUTOR_TYPES.includes(type as ExecutorType)) {
    throw new UserError(`executor.type is ${JSON.stringify(type)}: expected one of ${EXECUTOR_TYPES.map((t) => JSON.stringify(t)).join(', ')}`);
  }
  const s = raw.slurm ?? {};
  if (!isObject(s)) throw new UserError(`executor.slurm is ${JSON.stringify(s)}: expected an object`);
  const d = DEFAULT_SLURM_SETTINGS;
  const int = (k: string, fallback: number, min: number): number => (s[k] === undefined ? fallback : checkInt(`executor.slurm.${k}`, s[k], min));
  const defaults = { ...d.defaults, ...(s.defaults === undefined ? {} : checkResources('executor.slurm.defaults', s.defaults, true)) };
  const kinds: Record<string, Partial<SlurmResources>> = {};
  if (s.kinds !== undefined) {
    if (!isObject(s.kinds)) throw new UserError(`executor.slurm.kinds is ${JSON.stringify(s.kinds)}: expected an object of stage kind -> resources`);
    for (const [kind, r] of Object.entries(s.kinds)) kinds[kind] = checkResources(`executor.slurm.kinds.${kind}`, r, true);
  }
  const prefix = s.jobNamePrefix ?? d.jobNamePrefix;
  if (typeof prefix !== 'string' || !/^[A-Za-z0-9_.-]{1,32}$/.test(prefix)) {
    throw new UserError(`executor.slurm.jobNamePrefix is ${JSON.stringify(prefix)}: expected 1-32 letters, digits, '.', '_' or '-'`);
  }
  const known = ['pollIntervalMs', 'maxSubmitted', 'visibilityTimeoutMs', 'controllerTimeoutMs', 'logTailLines', 'jobNamePrefix', 'defaults', 'kinds'];
  for (const k of Object.keys(s)) if (!known.includes(k)) throw new UserError(`executor.slurm.${k}: unknown setting; allowed: ${known.join(', ')}`);
  return {
    type: type as ExecutorType,
    slurm: {
      pollIntervalMs: int('pollIntervalMs', d.pollIntervalMs, 200),
      maxSubmitted: int('maxSubmitted', d.maxSubmitted, 1),
      visibilityTimeoutMs: int('visibilityTimeoutMs', d.visibilityTimeoutMs, 0),
      controllerTimeoutMs: int('controllerTimeoutMs', d.controllerTimeoutMs, 0),
      logTailLines: int('logTailLines', d.logTailLines, 0),
      jobNamePrefix: prefix,
      defaults,
      kinds,
    },
  };
}

export const resourcesFor = (settings: SlurmSettings, kind: string): SlurmResources => ({ ...settings.defaults, ...settings.kinds[kind] });

/** The sbatch options that request these resources. */
export function resourceArgs(r: SlurmResources): string[] {
  const args = [`--cpus-per-task=${r.cpus}`, `--mem=${r.memoryMB}M`, `--time=${r.time}`];
  if (r.gpus > 0) args.push(`--gres=gpu:${r.gpus}`);
  if (r.partition) args.push(`--partition=${r.partition}`);
  return [...args, ...r.extraArgs];
}

const RESOURCES_SCHEMA = (partial: boolean): JsonObject => ({
  type: 'object',
  additionalProperties: false,
  ...(partial ? {} : { required: RESOURCE_KEYS }),
  properties: {
    cpus: { type: 'integer', minimum: 1, description: 'CPUs per job (sbatch --cpus-per-task).' },
    memoryMB: { type: 'integer', minimum: 1, description: 'Memory per job in MB (sbatch --mem).' },
    gpus: { type: 'integer', minimum: 0, description: 'GPUs per job (sbatch --gres=gpu:N); 0 asks for none.' },
    time: {
      type: 'string',
      pattern: TIME_RE.source,
      description: 'Time limit (sbatch --time): minutes, HH:MM:SS, D-HH:MM:SS or UNLIMITED. A job past it is killed and reported as TIMEOUT.',
    },
    partition: { type: 'string', pattern: '^\\S*$', description: 'Partition (sbatch --partition); empty for the cluster default.' },
    extraArgs: {
      type: 'array',
      items: { type: 'string', pattern: '^-' },
      description: 'Further sbatch options, passed as they are, e.g. ["--qos=short", "--account=lab"].',
    },
  },
});

/** JSON Schema of `params.executor`, for the pipeline's params.schema.json. */
export const EXECUTOR_PARAMS_SCHEMA: JsonObject = {
  type: 'object',
  additionalProperties: false,
  description: 'Where stage instances run. Not part of any cache key: switching executors reuses every artifact.',
  properties: {
    type: { type: 'string', enum: EXECUTOR_TYPES, description: 'local: worker processes on this machine (-j N); slurm: one sbatch job per instance (repro --executor slurm).' },
    slurm: {
      type: 'object',
      additionalProperties: false,
      description: 'Settings of the Slurm executor.',
      properties: {
        pollIntervalMs: { type: 'integer', minimum: 200, description: 'Interval between squeue calls (one call covers all jobs of the run).' },
        maxSubmitted: { type: 'integer', minimum: 1, description: 'Most jobs queued or running at once.' },
        visibilityTimeoutMs: { type: 'integer', minimum: 0, description: "How long to wait for a finished job's artifact to appear on the shared filesystem." },
        controllerTimeoutMs: { type: 'integer', minimum: 0, description: 'How long squeue may keep failing before the run gives its jobs up (their records stay for re-attachment).' },
        logTailLines: { type: 'integer', minimum: 0, description: 'Lines of a failed job’s logs to show.' },
        jobNamePrefix: { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,32}$', description: 'Job names are <prefix>-<run id>-<instance id>.' },
        defaults: { ...RESOURCES_SCHEMA(false), description: 'Resources of every job unless its stage kind says otherwise.' },
        kinds: {
          type: 'object',
          description: 'Per stage kind (e.g. "train"), resources overriding the defaults field by field.',
          additionalProperties: RESOURCES_SCHEMA(true),
        },
      },
    },
  },
};
