/** A toy pipeline in a temp directory, and a way to run its CLI in-process or as a child process. */
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { runCli } from '../../engine/cli.js';
import type { PipelineDefinition } from '../../engine/project.js';
import type { JsonObject } from '../../engine/stage.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
export const REPO = join(FIXTURES, '..', '..', '..');

export interface ToyProject {
  root: string;
  def: PipelineDefinition;
  writeParams(params: JsonObject): void;
  /** Runs the CLI in this process (workers are still separate processes). */
  cli(...argv: string[]): Promise<{ code: number; out: string; err: string }>;
  /** `repro --json` parsed. */
  repro(...argv: string[]): Promise<ReproSummary>;
  /** The CLI as a child process, for tests that kill or race it. */
  spawn(...argv: string[]): ReturnType<typeof execa>;
}

export interface ReproSummary {
  code: number;
  ran: string[];
  cached: string[];
  failed: { id: string; status: string; error: string; logTail: string; signal?: string }[];
  skipped: { id: string; because: string }[];
  err: string;
}

/** The toy pipeline's definition, less its root (the Slurm tests reuse it). */
export const TOY_DEFINITION: Omit<PipelineDefinition, 'root'> = {
  paramsFile: 'params.json',
  schemaFile: 'params.schema.json',
  artifactsDir: 'artifacts',
  lockFile: 'pipeline.lock.json',
  stageModules: ['stages/gen.ts', 'stages/square.ts', 'stages/sum.ts'],
  environmentModule: 'stages/environment.ts',
};

export const baseParams = (): JsonObject => ({
  gen: { a: { value: 1 }, b: { value: 2 } },
  sum: { factor: 10 },
});

export function toyProject(params: JsonObject = baseParams()): ToyProject {
  const root = mkdtempSync(join(tmpdir(), 'engine-test-'));
  cpSync(join(FIXTURES, 'stages'), join(root, 'stages'), { recursive: true });
  cpSync(join(FIXTURES, 'schema.json'), join(root, 'params.schema.json'));
  const def: PipelineDefinition = { root, ...TOY_DEFINITION };
  writeFileSync(join(root, 'pipeline.json'), JSON.stringify({ ...def, root: undefined }));
  const project: ToyProject = {
    root,
    def,
    writeParams: (p) => writeFileSync(join(root, 'params.json'), JSON.stringify(p, null, 2)),
    async cli(...argv) {
      let out = '';
      let err = '';
      const code = await runCli(def, argv, {
        stdout: { write: (t) => void (out += t), isTTY: false },
        stderr: { write: (t) => void (err += t), isTTY: false },
      });
      return { code, out, err };
    },
    async repro(...argv) {
      const r = await project.cli('repro', '--json', ...argv);
      if (r.code > 1) throw new Error(`repro exited ${r.code}: ${r.err}`);
      const s = JSON.parse(r.out) as Omit<ReproSummary, 'code' | 'err' | 'ran'> & { ran: { id: string }[] };
      return { ...s, ran: s.ran.map((x) => x.id), code: r.code, err: r.err };
    },
    spawn: (...argv) =>
      execa(process.execPath, ['--import', 'tsx', join(FIXTURES, 'cli.ts'), root, ...argv], { cwd: REPO, reject: false, detached: true }),
  };
  project.writeParams(params);
  return project;
}

export const readText = (path: string): string => readFileSync(path, 'utf8');
