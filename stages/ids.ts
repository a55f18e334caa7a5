/**
 * Instance ids shared by the stage kinds, so that a kind can name the upstream
 * instances it consumes without knowing how they were expanded.
 */

export type Variant = 'standard' | 'enhanced';

export const dataId = (): string => 'data';

/** A trained model. `attack` is 'benign' for the clean model (variant ignored). */
export function trainId(arch: string, attack: string, variant: Variant, seed: number): string {
  return attack === 'benign' ? `train/${arch}/benign/seed${seed}` : `train/${arch}/${attack}/${variant}/seed${seed}`;
}

/**
 * An enhanced model trained with a non-default s_max (figure 13's ablation). The train stage
 * expands these from analyses.ablation; the default s_max is the ordinary enhanced model.
 */
export const sMaxTrainId = (arch: string, attack: string, sMax: number, seed: number): string => `train/${arch}/${attack}/enhanced-smax${sMax}/seed${seed}`;

/** Whether a train id is one of the s_max ablation models (they are evaluated only as figure 13 needs). */
export const isSMaxTrainId = (trainInstanceId: string): boolean => /^train\/[^/]+\/[^/]+\/enhanced-smax\d+\/seed\d+$/.test(trainInstanceId);

/** The part of a train id after `train/`, reused by the stages that act on one model. */
export const modelPath = (trainInstanceId: string): string => trainInstanceId.replace(/^train\//, '');

export const evaluateId = (trainInstanceId: string, defenseId: string): string =>
  `evaluate/${modelPath(trainInstanceId)}/${defenseId}`;

export const figureId = (figure: string): string => `figure/${figure}`;
export const figureAlias = (figure: string): string => `figure:${figure}`;
export const tableId = (table: string): string => `table/${table}`;
export const tableAlias = (table: string): string => `table:${table}`;
