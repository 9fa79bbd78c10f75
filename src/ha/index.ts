// HA for a group of nodes that share addresses (the gateway, the egress gateway): one member is
// active; Lease fencing plus authenticated heartbeats; see member.ts and docs/decisions.md.
export * from './heartbeatChannel.ts';
export { deriveHeartbeatKey } from './heartbeatCodec.ts';
export * from './kubeLease.ts';
export * from './leaderElector.ts';
export * from './member.ts';
export * from './ports.ts';
export * from './timings.ts';
