// Strict fakes of the dataplane ports, for tests of code that uses the dataplane.

export * from './egress/fake.ts';
export * from './fake-runner.ts';
export * from './host-network-fake.ts';
export * from './netlink/fake.ts';
export * from './nftables/fake.ts';
export * from './ping/fake.ts';
export * from './wireguard/fake.ts';
