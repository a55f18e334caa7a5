/**
 * experiments/NAME.json: one recorded experiment, small enough to commit like a lock file. It
 * holds what was asked (profile, overrides, sweep point, targets), what that changed in the params,
 * what ran (each instance's key and outputs digest), the metrics those artifacts expose, and the
 * code version. The store stays the one home of artifacts: the record only names them by key.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { closest } from 'fastest-levenshtein';
import { UserError } from '../errors.js';
import type { JsonChange } from '../json.js';
import type { Assignment } from '../param-space.js';
import type { MetricValue } from './metrics.js';

export interface RecordedInstance {
  kind: string;
  key: string;
  outputsDigest: string;
}

export interface ExperimentRecord {
  version: 1;
  name: string;
  /** The `exp run NAME --sweep ...` that made it, when it is one point of a sweep. */
  sweep?: string;
  profile?: string;
  /** The `--set` texts, as given. */
  overrides: string[];
  /** The sweep point (empty for a single run). */
  assignment: Assignment;
  /** The targets as given (none: the whole DAG). */
  targets: string[];
  /** Effective params against the profile's own params: what this experiment changed. */
  paramsChanged: JsonChange[];
  createdAt: string;
  code: { commit?: string; dirty?: boolean; sourcesDigest: string };
  /** id -> artifact, for the targets and their ancestors. */
  instances: Record<string, RecordedInstance>;
  /** `<instance id>: <flattened name>` -> value, from the instances' metrics.json. */
  metrics: Record<string, MetricValue>;
}

/** `baseline` is the plain `repro` of a profile, resolved from the cache on demand, never a file. */
export const BASELINE = 'baseline';
const NAME = /^[A-Za-z0-9][A-Za-z0-9._+-]*$/;

export function checkName(name: string): void {
  if (!NAME.test(name)) throw new UserError(`experiment name ${JSON.stringify(name)}: use letters, digits and . _ + - (it names a file), starting with a letter or digit`);
  if (name === BASELINE) throw new UserError(`"${BASELINE}" is the plain repro of a profile (resolved from the cache on demand); pick another experiment name`);
}

export class ExperimentFiles {
  constructor(readonly dir: string) {}

  path(name: string): string {
    return join(this.dir, `${name}.json`);
  }
  has(name: string): boolean {
    return existsSync(this.path(name));
  }
  names(): string[] {
    if (!existsSync(this.dir)) return [];
    return readdirSync(this.dir)
      .filter((f) => f.endsWith('.json'))
      .map((f) => f.slice(0, -'.json'.length))
      .sort();
  }
  read(name: string): ExperimentRecord {
    if (!this.has(name)) {
      const known = this.names();
      const hint = known.length ? `; recorded: ${known.join(', ')} (closest: ${closest(name, known)})` : `; none is recorded in ${this.dir}`;
      throw new UserError(`unknown experiment ${JSON.stringify(name)}${hint}`);
    }
    let rec: ExperimentRecord;
    try {
      rec = JSON.parse(readFileSync(this.path(name), 'utf8')) as ExperimentRecord;
    } catch (err) {
      throw new UserError(`${this.path(name)} is not valid JSON: ${(err as Error).message}`);
    }
    if (rec.version !== 1 || typeof rec.instances !== 'object' || typeof rec.metrics !== 'object') throw new UserError(`${this.path(name)}: not an experiment record (version 1)`);
    return rec;
  }
  all(): ExperimentRecord[] {
    return this.names().map((n) => this.read(n));
  }
  write(rec: ExperimentRecord): void {
    mkdirSync(this.dir, { recursive: true });
    const tmp = `${this.path(rec.name)}.tmp${process.pid}`;
    writeFileSync(tmp, `${JSON.stringify(rec, null, 1)}\n`);
    renameSync(tmp, this.path(rec.name));
  }
  remove(name: string): void {
    this.read(name);
    rmSync(this.path(name));
  }
}
