/**
 * A mistake by the user (bad params, unknown target, a held lock): printed as
 * a plain message without a stack trace, and the CLI exits with status 2.
 */
export class UserError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UserError';
  }
}

/** Prefix every line so that a multi-line cause stays readable under a heading. */
export const indent = (text: string, prefix = '  '): string =>
  text
    .split('\n')
    .map((line) => prefix + line)
    .join('\n');
