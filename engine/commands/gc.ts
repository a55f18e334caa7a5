/** gc: delete artifacts that no instance of the current params (any profile) references. */
import { rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { plan } from '../plan.js';
import { expandDag, readParamsFile, resolveParams, resolvePath } from '../project.js';
import { readLock } from '../lockfile.js';
import { acquireRunLock } from '../runlock.js';
import { SourceHasher } from '../sources.js';
import { ArtifactStore, directorySize } from '../store.js';
import type { Project } from '../project.js';
import { UserError } from '../errors.js';
import { ExperimentFiles } from '../experiments/record.js';
import { experimentsDir } from './exp.js';
import type { Command } from './command.js';

export const gcCommand: Command = {
  name: 'gc',
  summary: 'delete cached artifacts no instance of the current params (all profiles) or recorded experiment references',
  usage: 'gc [--dry-run] [--wait] [--experiments all|none]',
  flags: ['dry-run', 'wait', 'experiments'],
  async run(ctx) {
    const def = ctx.def;
    const keepExperiments = ctx.args.experiments ?? 'all';
    if (keepExperiments !== 'all' && keepExperiments !== 'none') throw new UserError(`--experiments ${JSON.stringify(keepExperiments)}: expected all (keep what recorded experiments reference; the default) or none`);
    const store = new ArtifactStore(resolvePath(def, def.artifactsDir));
    const lockPath = resolvePath(def, def.lockFile);
    const lock = readLock(lockPath);
    const file = readParamsFile(def);
    const selections = [
      { profile: ctx.args.profile, overrides: ctx.args.set },
      ...Object.keys(file.profiles).map((profile) => ({ profile, overrides: [] as string[] })),
    ];
    const keep = new Set(Object.values(lock.instances).map((e) => `${e.kind}/${e.key}`));
    // A recorded experiment is a promise that its artifacts can be looked at again (exp diff reads their fingerprints).
    const experiments = keepExperiments === 'all' ? new ExperimentFiles(experimentsDir(def)).all() : [];
    for (const rec of experiments) for (const i of Object.values(rec.instances)) keep.add(`${i.kind}/${i.key}`);
    const hasher = new SourceHasher(def.root, join(store.cacheDir, 'sources.json'));
    for (const sel of selections) {
      const { profile, params } = await resolveParams(def, file, sel);
      const { dag, closures } = await expandDag(def, params, store, hasher);
      const project: Project = { def, paramsFile: file, profile, params, dag, store, closures, lock, lockPath };
      for (const item of plan(project, dag.order, new Set()).values()) if (item.key) keep.add(`${item.kind}/${item.key}`);
    }
    const runLock = ctx.args.dryRun ? undefined : await acquireRunLock(store.runLockFile, 'gc', { wait: ctx.args.wait });
    try {
      let bytes = 0;
      let count = 0;
      for (const a of store.listArtifacts()) {
        if (keep.has(`${a.kind}/${a.key}`)) continue;
        const size = directorySize(a.dir);
        bytes += size;
        count += 1;
        ctx.stdout.write(`${ctx.args.dryRun ? 'would delete' : 'deleted'} ${relative(def.root, a.dir)}  (${size} bytes)\n`);
        if (!ctx.args.dryRun) rmSync(a.dir, { recursive: true, force: true });
      }
      ctx.stdout.write(`${ctx.args.dryRun ? 'would delete' : 'deleted'} ${count} artifacts, ${bytes} bytes; ${keep.size} referenced\n`);
      return 0;
    } finally {
      runLock?.release();
    }
  },
};
