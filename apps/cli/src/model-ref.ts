import { UsageError } from './exit-codes.js';

/** `fraud`, `fraud@7` or `fraud@champion`. */
export interface ModelRef {
  model: string;
  version: number;
  alias: string;
}

/** Parses a model reference; version 0 with an empty alias means "latest". */
export function parseModelRef(text: string): ModelRef {
  const [model = '', selector, extra] = text.split('@');
  if (!model || extra !== undefined)
    throw new UsageError(`"${text}" is not a model reference: use name, name@7 or name@alias`);
  if (selector === undefined || selector === '') return { model, version: 0, alias: '' };
  if (/^\d+$/.test(selector)) return { model, version: Number(selector), alias: '' };
  return { model, version: 0, alias: selector };
}
