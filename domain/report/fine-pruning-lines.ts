/**
 * What Table 1 (and Table 6) say about Fine-Pruning beyond its cells: where our stopping rule comes
 * from, and our ASR at the prune fraction whose clean-accuracy loss matches the paper's own row,
 * so that the reader compares like with like (the paper's rows lose 0.6 to 43 points; our rule
 * allows at most maxAccuracyDrop on validation).
 */
import { factKey, type Facts } from './facts.js';
import { ATTACK_LABEL, ARCH_LABEL } from './paper-numbers.js';
import type { TableContext } from './paper-tables.js';

const pct = (v: number | undefined): string => (v === undefined ? 'not measured' : `${v.toFixed(1)}%`);

/** The rule, in words, for the report: the paper's text and ours. */
export function finePruningRuleLine(maxAccuracyDrop: number): string {
  return (
    `Fine-Pruning's prune fraction: the paper says only that it "is determined through grid-search on the validation set" (appendix B) and states no stopping rule; ` +
    `ours keeps the largest fraction of the grid whose validation clean accuracy is at most ${(100 * maxAccuracyDrop).toFixed(1)} points below the unpruned model's ` +
    `(params defenses.finePruning.maxAccuracyDrop), a rule of ours fixed when the defense was implemented, not taken from the paper. ` +
    `The paper's own Fine-Pruning rows lose 0.6 to 18.7 points of clean accuracy in Table 1 and 6.1 to 43.0 in Table 6.`
  );
}

/** One line and the facts per model whose Fine-Pruning artifact recorded the paper-loss reading. */
export function finePruningAtPaperLoss(ctx: TableContext, attacks: string[], paperAsr: (paper: 'vgg19' | 'resnet34', attack: string) => number | undefined): { facts: Facts; lines: string[] } {
  const facts: Facts = {};
  const lines: string[] = [];
  let rule: number | undefined;
  for (const a of ctx.archs) {
    for (const attack of attacks) {
      const m = ctx.lookup(a.arch, attack, 'standard', ctx.defenseIds['fine-pruning']);
      const fp = m?.finePruning;
      if (!fp) continue;
      rule = fp.maxAccuracyDrop;
      const at = fp.atPaperLoss;
      if (!at) continue;
      const key = (metric: Parameters<typeof factKey.finePruningAtPaperLoss>[3]) => factKey.finePruningAtPaperLoss(a.arch, attack, 'standard', metric);
      facts[key('paperLoss')] = at.paperLoss;
      facts[key('validationLoss')] = at.validationLoss;
      facts[key('fraction')] = at.fraction;
      facts[key('clean')] = at.clean;
      if (at.asr !== undefined) facts[key('asr')] = at.asr;
      if (at.targetRateClean !== undefined) facts[key('targetRateClean')] = at.targetRateClean;
      const paper = paperAsr(a.paper, attack);
      lines.push(
        `Fine-Pruning on ${a.arch} / ${ATTACK_LABEL[attack] ?? attack} at the paper's own clean-accuracy loss (${at.paperLoss.toFixed(1)} points, ${ARCH_LABEL[a.paper]} row): ` +
          `${at.reached ? `pruning ${(100 * at.fraction).toFixed(0)}% of the channels first loses ${at.validationLoss.toFixed(1)} points on validation` : `even pruning ${(100 * at.fraction).toFixed(0)}% loses only ${at.validationLoss.toFixed(1)} points on validation`}; ` +
          `there ASR ${pct(at.asr)}, clean ${pct(at.clean)} on the test half (at our ${(100 * fp.maxAccuracyDrop).toFixed(0)}-point rule: pruned ${(100 * fp.chosenFraction).toFixed(0)}%, ASR ${pct(m?.asr)}); the paper: ASR ${paper === undefined ? 'not in the paper' : `${paper}%`}`,
      );
    }
  }
  return { facts, lines: rule === undefined ? lines : [finePruningRuleLine(rule), ...lines] };
}
