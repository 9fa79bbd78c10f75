// Errors are values with context: what failed, on which object, and what to do about it.
// `code` is stable for programs; `hint` is the fix for people. instanceof works across bundle
// copies because the check goes through a registered symbol.
const BRAND = Symbol.for('moor.error');

export type ErrorCode =
  | 'invalid-argument'
  | 'invalid-input'
  | 'broker-unreachable'
  | 'broker-auth'
  | 'broker-forbidden'
  | 'broker-conflict'
  | 'not-found'
  | 'interrupted'
  | 'locked'
  | 'system'
  | 'internal';

export interface MoorErrorOptions {
  hint?: string;
  cause?: unknown;
  exitCode?: number;
}

export class MoorError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly exitCode: number;

  constructor(code: ErrorCode, message: string, options: MoorErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'MoorError';
    this.code = code;
    this.hint = options.hint;
    this.exitCode = options.exitCode ?? (code === 'invalid-argument' ? 2 : 1);
    Object.defineProperty(this, BRAND, { value: true });
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
  }
}
