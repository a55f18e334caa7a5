/**
 * The paper's own numbers (Li et al., "Rethinking the Trigger of Backdoor Attack"), transcribed from
 * the extracted text in ../shared/paper. Percentages as printed. Where extraction lost a number
 * (e.g. the values section 3.2 quotes for figure 3), it is absent here rather than guessed, and
 * `lostInExtraction` says so, so that the report can print "not stated in the extracted text".
 */

export type Arch = 'vgg19' | 'resnet34';
export type PaperAttack = 'badnets' | 'blended' | 'consistent';
export interface CleanAsr {
  clean: number;
  asr: number;
}

export const ARCH_LABEL: Record<Arch, string> = { vgg19: 'VGG-19', resnet34: 'ResNet-34' };
export const ATTACK_LABEL: Record<string, string> = {
  badnets: 'BadNets',
  blended: 'Blended Attack',
  consistent: 'Consistent Attack',
  uap: 'BadNets (universal perturbation)',
};

/** Table 1 (section 5.1): clean accuracy and ASR (%) per defense, architecture and attack. */
export type Table1Defense = 'standard' | 'fine-pruning' | 'neural-cleanse' | 'auto-encoder' | 'flip' | 'shrinkpad-4';
export const TABLE1: Record<Table1Defense, Record<Arch, Record<PaperAttack, CleanAsr>>> = {
  standard: {
    vgg19: { badnets: { clean: 91.9, asr: 100 }, blended: { clean: 91.5, asr: 100 }, consistent: { clean: 91.3, asr: 95.6 } },
    resnet34: { badnets: { clean: 94.1, asr: 100 }, blended: { clean: 93.1, asr: 100 }, consistent: { clean: 93.1, asr: 98.7 } },
  },
  'fine-pruning': {
    vgg19: { badnets: { clean: 91.3, asr: 0.7 }, blended: { clean: 83.6, asr: 0.2 }, consistent: { clean: 72.6, asr: 0.1 } },
    resnet34: { badnets: { clean: 92.1, asr: 0 }, blended: { clean: 91.9, asr: 0.3 }, consistent: { clean: 92.0, asr: 18.9 } },
  },
  'neural-cleanse': {
    vgg19: { badnets: { clean: 83.3, asr: 0.6 }, blended: { clean: 90.6, asr: 0.4 }, consistent: { clean: 86.4, asr: 0.7 } },
    resnet34: { badnets: { clean: 91.4, asr: 0.7 }, blended: { clean: 91.4, asr: 0.5 }, consistent: { clean: 91.2, asr: 1.4 } },
  },
  'auto-encoder': {
    vgg19: { badnets: { clean: 86.4, asr: 2.1 }, blended: { clean: 86.0, asr: 1.7 }, consistent: { clean: 85.4, asr: 2.3 } },
    resnet34: { badnets: { clean: 87.5, asr: 2.7 }, blended: { clean: 87.2, asr: 1.9 }, consistent: { clean: 88.4, asr: 2.1 } },
  },
  flip: {
    vgg19: { badnets: { clean: 91.0, asr: 1.1 }, blended: { clean: 91.1, asr: 0.9 }, consistent: { clean: 90.5, asr: 95.7 } },
    resnet34: { badnets: { clean: 93.6, asr: 0.8 }, blended: { clean: 92.8, asr: 0.8 }, consistent: { clean: 92.3, asr: 98.8 } },
  },
  'shrinkpad-4': {
    vgg19: { badnets: { clean: 87.6, asr: 1.6 }, blended: { clean: 88.3, asr: 1.8 }, consistent: { clean: 87.5, asr: 3.7 } },
    resnet34: { badnets: { clean: 91.4, asr: 1.5 }, blended: { clean: 90.6, asr: 1.8 }, consistent: { clean: 89.9, asr: 4.8 } },
  },
};

/** Table 2 (section 5.2): ASR (%) of standard and enhanced (+) attacks without defense and under Flip / ShrinkPad. */
export type Table2Defense = 'standard' | 'flip' | 'shrinkpad-2' | 'shrinkpad-4';
export type Variant = 'standard' | 'enhanced';
export const TABLE2: Record<Arch, Record<PaperAttack, Record<Variant, Record<Table2Defense, number>>>> = {
  vgg19: {
    badnets: {
      standard: { standard: 100.0, flip: 1.1, 'shrinkpad-2': 22.7, 'shrinkpad-4': 1.6 },
      enhanced: { standard: 100.0, flip: 100.0, 'shrinkpad-2': 100.0, 'shrinkpad-4': 100.0 },
    },
    blended: {
      standard: { standard: 100.0, flip: 0.9, 'shrinkpad-2': 40.8, 'shrinkpad-4': 1.8 },
      enhanced: { standard: 99.9, flip: 99.9, 'shrinkpad-2': 100.0, 'shrinkpad-4': 98.7 },
    },
    consistent: {
      standard: { standard: 95.6, flip: 95.7, 'shrinkpad-2': 67.1, 'shrinkpad-4': 3.7 },
      enhanced: { standard: 86.0, flip: 86.3, 'shrinkpad-2': 97.2, 'shrinkpad-4': 90.9 },
    },
  },
  resnet34: {
    badnets: {
      standard: { standard: 100.0, flip: 0.8, 'shrinkpad-2': 14.9, 'shrinkpad-4': 1.5 },
      enhanced: { standard: 100.0, flip: 100.0, 'shrinkpad-2': 100.0, 'shrinkpad-4': 100.0 },
    },
    blended: {
      standard: { standard: 100.0, flip: 0.8, 'shrinkpad-2': 18.2, 'shrinkpad-4': 1.8 },
      enhanced: { standard: 100.0, flip: 100.0, 'shrinkpad-2': 100.0, 'shrinkpad-4': 99.5 },
    },
    consistent: {
      standard: { standard: 98.7, flip: 98.8, 'shrinkpad-2': 24.2, 'shrinkpad-4': 4.8 },
      enhanced: { standard: 96.4, flip: 97.3, 'shrinkpad-2': 97.4, 'shrinkpad-4': 98.7 },
    },
  },
};

/** Table 3 (appendix D): ResNet-34 under additive Gaussian noise, std on the 0-255 scale. */
export const TABLE3_STDS = [5, 10, 15, 20] as const;
export const TABLE3: Record<PaperAttack, Record<(typeof TABLE3_STDS)[number], CleanAsr>> = {
  badnets: { 5: { clean: 91.2, asr: 100 }, 10: { clean: 79.8, asr: 100 }, 15: { clean: 58.1, asr: 100 }, 20: { clean: 36.4, asr: 100 } },
  blended: { 5: { clean: 90.8, asr: 100 }, 10: { clean: 81.4, asr: 100 }, 15: { clean: 64.5, asr: 99.9 }, 20: { clean: 46.0, asr: 99.5 } },
  consistent: { 5: { clean: 90.9, asr: 98.7 }, 10: { clean: 81.9, asr: 99.1 }, 15: { clean: 65.1, asr: 99.4 }, 20: { clean: 44.6, asr: 99.6 } },
};

/** Table 4 (appendix D): ResNet-34 under ColorJitter-style shifts with maximum perturbation size 0.1..0.4. */
export type ColorShift = 'hue' | 'contrast' | 'brightness' | 'saturation';
export const TABLE4_SIZES = [0.1, 0.2, 0.3, 0.4] as const;
type BySize = Record<string, CleanAsr>;
const row = (pairs: [number, number][]): BySize =>
  Object.fromEntries(pairs.map(([clean, asr], i) => [String(TABLE4_SIZES[i]), { clean, asr }]));
export const TABLE4: Record<ColorShift, Record<PaperAttack, BySize>> = {
  hue: {
    badnets: row([[93.2, 100], [91.6, 100], [89.4, 100], [88.5, 100]]),
    blended: row([[92.1, 100], [89.8, 100], [88, 100], [86.9, 100]]),
    consistent: row([[91.9, 98.7], [89.2, 98.8], [87.2, 99], [85.8, 99.1]]),
  },
  contrast: {
    badnets: row([[94.2, 100], [94.0, 100], [93.8, 100], [93.7, 100]]),
    blended: row([[92.9, 100], [92.9, 100], [92.8, 100], [92.6, 100]]),
    consistent: row([[93.0, 98.5], [92.8, 97.9], [92.6, 97.5], [92.4, 96.4]]),
  },
  brightness: {
    badnets: row([[94.1, 100], [93.9, 100], [93.7, 100], [93.4, 100]]),
    blended: row([[93.0, 100], [92.9, 99.8], [92.7, 99.0], [92.4, 98.4]]),
    consistent: row([[93.0, 98.1], [92.9, 96.4], [92.6, 94.5], [91.9, 92.6]]),
  },
  saturation: {
    badnets: row([[94.1, 100], [94.1, 100], [94.1, 100], [94.0, 100]]),
    blended: row([[93.1, 100], [93.1, 100], [93.0, 100], [93.0, 100]]),
    consistent: row([[93.0, 98.7], [93.0, 98.8], [93.0, 98.7], [92.8, 98.7]]),
  },
};

/**
 * Table 5 (appendix E.1): average additional cost of each defense, as printed. The unit is not
 * stated in the extracted text (the text calls it "training time"). Auto-Encoder has one number
 * printed across both columns (its auto-encoder does not depend on the classifier).
 */
export type Table5Defense = 'fine-pruning' | 'neural-cleanse' | 'auto-encoder' | 'flip' | 'shrinkpad';
export const TABLE5: Record<Table5Defense, { vgg19: number; resnet34: number; note?: string }> = {
  'fine-pruning': { vgg19: 400, resnet34: 600 },
  'neural-cleanse': { vgg19: 30000, resnet34: 80000 },
  'auto-encoder': { vgg19: 2000, resnet34: 2000, note: 'one value printed across both architectures' },
  flip: { vgg19: 0, resnet34: 0 },
  shrinkpad: { vgg19: 0, resnet34: 0 },
};

/** Table 6 (appendix E.2): BadNets with a universal adversarial perturbation as trigger. */
export type Table6Defense = 'standard' | 'fine-pruning' | 'neural-cleanse' | 'auto-encoder' | 'flip' | 'shrinkpad-4';
export const TABLE6: Record<Table6Defense, Record<Arch, CleanAsr>> = {
  standard: { vgg19: { clean: 89.9, asr: 100 }, resnet34: { clean: 93.9, asr: 100 } },
  'fine-pruning': { vgg19: { clean: 46.9, asr: 0 }, resnet34: { clean: 87.8, asr: 1.6 } },
  'neural-cleanse': { vgg19: { clean: 48.0, asr: 100 }, resnet34: { clean: 73.3, asr: 100 } },
  'auto-encoder': { vgg19: { clean: 84.0, asr: 11.6 }, resnet34: { clean: 85.9, asr: 4.5 } },
  flip: { vgg19: { clean: 88.9, asr: 3.6 }, resnet34: { clean: 93.6, asr: 0.7 } },
  'shrinkpad-4': { vgg19: { clean: 85.0, asr: 12.4 }, resnet34: { clean: 91.5, asr: 6.2 } },
};

/** What the text says about each figure; figures' plotted values are not in the text. */
export const FIGURE_STATEMENTS: Record<string, { source: string; statement: string; lostInExtraction?: string }> = {
  fig2: { source: 'section 3.2', statement: 'ASR of BadNets drops sharply when the test-time trigger is moved by a few pixels.', lostInExtraction: 'the shift distance and the ASR values it quotes' },
  fig3: {
    source: 'section 3.2',
    statement: 'Moving the trigger a small distance drops ASR sharply; ASR degrades sharply as the non-zero pixel value decreases from 128, and is not affected when it increases.',
    lostInExtraction: 'the shift distance (pixels and % of image size) and the ASR before and after',
  },
  fig5: { source: 'section 5.3', statement: 'Saliency of attacked images lies on the trigger under both attacks; under the standard attack, ShrinkPad-transformed attacked images shift saliency to the object, while under the enhanced attack it stays on the trigger.' },
  fig6: { source: 'section 5.3', statement: 'Standard attack: CDRPs of (benign, transformed attacked) correlate highly, the other two pairs less. Enhanced attack: (attacked, transformed attacked) correlate highly, pairs with benign less.' },
  fig8: { source: 'section 5.4', statement: 'Photographed attacked images: BadNets+ enforces the target label, BadNets fails.' },
  fig12: { source: 'appendix F.1', statement: 'ASR of enhanced attacks (s_max = 4) stays high while the ShrinkPad size is at most 4 and drops dramatically above it.' },
  fig13: { source: 'appendix F.2', statement: 'Without defense, enhanced ASR is high and nearly constant in s_max (Consistent Attack+ decreases). Under ShrinkPad-4, ASR rises from 0 to almost 100 as s_max grows to 4, and BadNets+/Blended Attack+ stay near 100 above it.' },
  table1: { source: 'section 5.1', statement: 'ShrinkPad-4 decreases ASR by a large margin in all cases; Flip defends BadNets and Blended but not Consistent (symmetric trigger).', lostInExtraction: 'the minimum ASR decrease quoted for ShrinkPad-4' },
  table2: { source: 'section 5.2', statement: 'Enhanced attacks keep high ASR under Flip and ShrinkPad.', lostInExtraction: 'the minimum ASR improvement quoted under ShrinkPad-4' },
};
