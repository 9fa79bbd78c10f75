// The schema of state.json, as `moor join` writes it (version 1). Reading goes through it, so a
// damaged or hand-edited file fails with the field that is wrong, not later with a TypeError.
// Unknown fields are kept (a newer moor may add some), and privateIpDetected is optional because
// files written before it existed lack it.
import { z } from 'zod';
import { clusterIdProblem } from '../broker/names.ts';
import { isIpv4 } from '../net/ipv4.ts';

const text = z.string().min(1, 'must not be empty');
const ipv4 = z.string().refine(isIpv4, 'must be an IPv4 address like 10.0.0.5');
const ipv4OrEmpty = z.string().refine((s) => s === '' || isIpv4(s), 'must be an IPv4 address or ""');

export const hostStateSchema = z.looseObject({
  version: z.literal(1, 'must be 1 (the only state format this moor writes)'),
  clusterId: z.string().superRefine((id, ctx) => {
    const problem = clusterIdProblem(id);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
  }),
  broker: z.looseObject({
    server: z.string().regex(/^[a-z][a-z0-9+.-]*:\/\/\S+$/i, 'must be a URL like https://broker:6443'),
    namespace: text,
    caPem: z.string(),
    insecure: z.boolean(),
    token: text,
  }),
  psk: text,
  serviceDiscovery: z.boolean(),
  customDomains: z.array(z.string()),
  addresses: z.array(ipv4).min(1, 'must list at least one address'),
  addressClaims: z.array(z.string()),
  privateIp: ipv4,
  privateIpDetected: z.boolean().optional(),
  publicIp: ipv4OrEmpty,
  natEnabled: z.boolean(),
  port: z.number().int().min(1).max(65535),
  interfaceName: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,15}$/, 'must be an interface name of at most 15 characters'),
  hostname: text,
  credential: z.looseObject({ serviceAccount: text, roleBinding: text, tokenSecret: text }),
});

/** `broker.token: must not be empty`-style description of the first problems. */
export function describeStateIssues(issues: readonly z.core.$ZodIssue[]): string {
  const shown = issues.slice(0, 3).map((i) => {
    const field = i.path.map(String).join('.') || '(top level)';
    const message = i.code === 'invalid_type' && i.input === undefined ? 'is missing' : i.message;
    return `${field}: ${message}`;
  });
  const more = issues.length > 3 ? `; and ${issues.length - 3} more` : '';
  return `${shown.join('; ')}${more}`;
}
