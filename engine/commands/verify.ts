/**
 * `verify [targets] [--json]`: rehashes every output of the selected instances' artifacts in
 * full (no trust in unchanged sizes and times) and says which are damaged. Changes nothing:
 * `repro` moves damaged artifacts aside and rebuilds them. Exit status 1 if any is damaged.
 */
import { resolveTargets, withAncestors } from '../graph.js';
import { integrityOf } from '../integrity.js';
import { checkArtifact, plan } from '../plan.js';
import { loadProject } from '../project.js';
import type { Command } from './command.js';

interface Damaged {
  id: string;
  kind: string;
  key: string;
  problems: string[];
}

export const verifyCommand: Command = {
  name: 'verify',
  summary: 'rehash every output of the selected artifacts; exit 1 if any is damaged',
  usage: 'verify [targets...] [--json]',
  flags: ['json'],
  async run(ctx) {
    const project = await loadProject(ctx.def, { profile: ctx.args.profile, overrides: ctx.args.set });
    const ids = withAncestors(project.dag, resolveTargets(project.dag, ctx.args.positionals));
    const checker = integrityOf(project);
    checker.full = true;
    const damaged: Damaged[] = [];
    const notBuilt: string[] = [];
    let intact = 0;
    for (const item of plan(project, ids, new Set()).values()) {
      const reason = item.reasons.find((r) => r.type === 'damaged');
      if (reason?.type === 'damaged') damaged.push({ id: item.id, kind: item.kind, key: reason.key, problems: reason.problems });
      else if (item.state === 'fresh') intact += 1;
      else {
        // Downstream of a damaged or stale instance its current key is unknown; its last good artifact is still checked.
        const last = project.lock.instances[item.id];
        const found = !item.key && last ? checkArtifact(project, item.id, last.kind, last.key) : undefined;
        if (found?.state === 'damaged') damaged.push({ id: item.id, kind: last!.kind, key: last!.key, problems: found.problems });
        else notBuilt.push(item.id);
      }
    }
    checker.save();
    const { files, bytes } = checker.rehashed;
    if (ctx.args.json) {
      ctx.stdout.write(`${JSON.stringify({ intact, damaged, notCurrent: notBuilt, rehashedFiles: files, rehashedBytes: bytes }, null, 2)}\n`);
      return damaged.length ? 1 : 0;
    }
    for (const d of damaged) {
      ctx.stdout.write(`damaged  ${d.id}  (${d.kind}/${d.key.slice(0, 12)})\n`);
      for (const p of d.problems) ctx.stdout.write(`         ${p}\n`);
    }
    const mb = (bytes / 1e6).toFixed(1);
    ctx.stdout.write(
      `${intact} intact, ${damaged.length} damaged, ${notBuilt.length} not built for the current inputs (rehashed ${files} files, ${mb} MB)` +
        `${damaged.length ? '; `repro` moves damaged artifacts to .damaged/ and rebuilds them' : ''}\n`,
    );
    return damaged.length ? 1 : 0;
  },
};
