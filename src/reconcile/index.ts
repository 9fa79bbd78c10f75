// The reconciler core: one loop shape for every daemon (see docs/architecture.md).
export * from './clock.ts';
export * from './loop.ts';
export * from './outage.ts';
export * from './outcome.ts';
export * from './stage.ts';
