/** The code version an experiment records: the git commit (if any) and a digest of the stage kinds' sources. */
import { execFileSync } from 'node:child_process';
import { canonicalJson, sha256 } from '../json.js';
import type { Project } from '../project.js';

/** The git commit of the root, and whether tracked files differ from it; none outside a repository. */
export function gitVersion(root: string): { commit?: string; dirty?: boolean } {
  try {
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const status = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return { commit, dirty: status.trim() !== '' };
  } catch {
    return {};
  }
}

/** One digest of every stage kind's sources and packages: the code the keys were computed from. */
export const sourcesDigest = (project: Project): string => sha256(canonicalJson(Object.fromEntries(project.closures)));

