// Support for *.real.test.ts: throw-away network namespaces named moordp-<6 hex>, removed again
// even when a test fails, and a call-recording wrapper to prove what a helper did to the kernel.
// Only tests import this file.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { type CommandRunner, ExecRunner, namespacedRunner, type ProcessSpawner } from './exec.ts';

export const host = new ExecRunner({ defaultTimeoutMs: 15_000 });

/** Why real tests cannot run here, or undefined when they can. */
export function realTestsUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root';
  for (const bin of ['/usr/sbin/ip', '/usr/bin/wg', '/usr/bin/wireguard-go', '/usr/sbin/nft']) {
    if (!existsSync(bin) && !existsSync(bin.replace('/usr', ''))) return `${bin} missing`;
  }
  return undefined;
}

export function randomHex(bytes = 3): string {
  return randomBytes(bytes).toString('hex');
}

export interface TestNamespace {
  name: string;
  runner: CommandRunner & ProcessSpawner;
}

/** Namespaces created by one test file; `destroyAll` is safe to call twice. */
export class TestNamespaces {
  readonly #created: string[] = [];

  async create(): Promise<TestNamespace> {
    const name = `moordp-${randomHex()}`;
    await host.run(['ip', 'netns', 'add', name]);
    this.#created.push(name);
    const runner = namespacedRunner(name, host);
    await runner.run(['ip', 'link', 'set', 'lo', 'up']);
    return { name, runner };
  }

  /** Connect two namespaces with a veth pair; returns the device name on each side. */
  async veth(a: TestNamespace, b: TestNamespace): Promise<[string, string]> {
    const suffix = randomHex(2);
    const left = `va${suffix}`;
    const right = `vb${suffix}`;
    await a.runner.run(['ip', 'link', 'add', left, 'type', 'veth', 'peer', 'name', right, 'netns', b.name]);
    return [left, right];
  }

  async destroyAll(): Promise<void> {
    for (const name of this.#created.splice(0)) {
      await host.run(['ip', 'netns', 'del', name], { allowNonZeroExit: true });
    }
  }
}

export async function namespaceExists(name: string): Promise<boolean> {
  const { stdout } = await host.run(['ip', 'netns', 'list']);
  return stdout.split('\n').some((l) => l.split(' ')[0] === name);
}

export interface RecordedCall {
  method: string;
  args: unknown[];
}

/** Wrap a port so every method call is recorded before it is forwarded. */
export function recording<T extends object>(target: T): { port: T; calls: RecordedCall[] } {
  const calls: RecordedCall[] = [];
  const port = new Proxy(target, {
    get(t, prop, receiver) {
      const value: unknown = Reflect.get(t, prop, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        calls.push({ method: String(prop), args });
        return (value as (...a: unknown[]) => unknown).apply(t, args);
      };
    },
  });
  return { port, calls };
}
