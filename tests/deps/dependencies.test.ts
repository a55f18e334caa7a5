/**
 * No unused dependencies: every package.json entry is imported (or, for dev tools, run; for the
 * optional tfjs-node backends, loaded by name). The check itself (scripts/check-deps.ts) is tested
 * on a small fixture project, so that it is seen to flag what it should.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importedPackages, packageOf, unusedDependencies } from '../../scripts/check-deps.js';

const REPO = resolve(import.meta.dirname, '../..');

describe('dependencies', () => {
  it('package.json lists no dependency that nothing uses', () => {
    expect(unusedDependencies(REPO)).toEqual([]);
  });

  it('the check flags an unused entry of each section and accepts every way of using one', () => {
    const root = mkdtempSync(join(tmpdir(), 'check-deps-'));
    writeFileSync(join(root, 'package.json'), JSON.stringify({
      scripts: { build: 'tsc -p .', test: 'node --import tsx run.ts' },
      dependencies: { 'left-pad': '1', '@scope/used': '1', dyn: '1', req: '1', side: '1', reexp: '1', 'not-imported': '1' },
      optionalDependencies: { 'native-backend': '1', 'never-named': '1' },
      devDependencies: { typescript: '5', tsx: '4', '@types/node': '20', '@types/left-pad': '1', '@types/absent': '1', 'unused-tool': '1' },
    }));
    mkdirSync(join(root, 'src'));
    writeFileSync(join(root, 'src', 'a.ts'), [
      "import { pad } from 'left-pad';",
      "import type { X } from '@scope/used/sub/path';",
      "import { readFileSync } from 'node:fs';",
      "const m = await import('dyn');",
      "const r = require('req');",
      "import 'side';",
      "export * from 'reexp';",
      "const backends = { native: 'native-backend' };",
      "// not-imported is only mentioned in a comment",
    ].join('\n'));
    // typescript's command is tsc: the check reads the bin names from node_modules.
    mkdirSync(join(root, 'node_modules', 'typescript'), { recursive: true });
    writeFileSync(join(root, 'node_modules', 'typescript', 'package.json'), JSON.stringify({ name: 'typescript', bin: { tsc: './bin/tsc', tsserver: './bin/tsserver' } }));
    expect(unusedDependencies(root).sort((a, b) => a.name.localeCompare(b.name))).toEqual([
      { name: '@types/absent', section: 'devDependencies' },
      { name: 'never-named', section: 'optionalDependencies' },
      { name: 'not-imported', section: 'dependencies' },
      { name: 'unused-tool', section: 'devDependencies' },
    ]);
  });

  it('reads the package of a module specifier', () => {
    expect(packageOf('@tensorflow/tfjs/dist/x.js')).toBe('@tensorflow/tfjs');
    expect(packageOf('ajv/dist/2020.js')).toBe('ajv');
    expect(packageOf('./local.js')).toBeNull();
    expect(packageOf('node:fs')).toBeNull();
    expect([...importedPackages("import a from 'a';\nimport {\n  b,\n} from '@s/b/c';\nconst x = 'not-an-import';")].sort()).toEqual(['@s/b', 'a']);
  });
});
