/**
 * The claims table (issues 8 and 18). The code lives in ./claims/, one module per group of claims;
 * this module keeps the import path the report and the params types use.
 */
export * from './claims/index.js';
