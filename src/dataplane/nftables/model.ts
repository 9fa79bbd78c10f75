// The data model of one owned nftables table (practices §6/§11): static chains whose rules are
// text, and sets/maps that carry the dynamic data. Rules are written by our own code, but
// everything is still validated so that no value can end a block or start a new statement in the
// script we pipe to `nft -f -`.
import { MoorError } from '../../errors.ts';
import { compareText } from '../text.ts';

export type NftFamily = 'inet' | 'ip' | 'ip6' | 'arp' | 'bridge' | 'netdev';
export type NftSetFlag = 'constant' | 'interval' | 'timeout' | 'dynamic';
export type NftHook = 'prerouting' | 'input' | 'forward' | 'output' | 'postrouting' | 'ingress';
export type NftChainType = 'filter' | 'nat' | 'route';
export type NftPriorityName = 'raw' | 'mangle' | 'dstnat' | 'filter' | 'security' | 'srcnat';

export interface NftSetSpec {
  name: string;
  /** e.g. "ipv4_addr", "ipv4_addr . inet_service". */
  type: string;
  flags?: NftSetFlag[];
  /** e.g. "10.0.0.1", "10.0.0.0/8", "10.0.0.1-10.0.0.9", "10.0.0.1 . 443". */
  elements?: string[];
}

export interface NftMapSpec {
  name: string;
  type: string;
  /** e.g. "ipv4_addr", "verdict". */
  valueType: string;
  flags?: NftSetFlag[];
  elements?: [key: string, value: string][];
}

export interface NftBaseChain {
  type: NftChainType;
  hook: NftHook;
  priority: number | NftPriorityName;
  policy?: 'accept' | 'drop';
}

export interface NftChainSpec {
  name: string;
  /** Absent for regular chains (jump targets). */
  base?: NftBaseChain;
  /** One statement list per rule, e.g. "ip saddr @allowed accept". */
  rules?: string[];
}

export interface NftTableSpec {
  family?: NftFamily;
  name: string;
  sets?: NftSetSpec[];
  maps?: NftMapSpec[];
  chains?: NftChainSpec[];
}

/** Named priorities for the families we use (nft(8), "PRIORITY"). */
export const PRIORITY_NUMBERS: Record<NftPriorityName, number> = {
  raw: -300,
  mangle: -150,
  dstnat: -100,
  filter: 0,
  security: 50,
  srcnat: 100,
};

// Note: nft keywords ("fwd", "helper", "counter", …) are not valid names either; nft rejects
// them with a syntax error. A prefix such as "moor_" avoids them.
const NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;
const TYPE = /^[a-z0-9_]+( \. [a-z0-9_]+)*$/;
const ELEMENT = /^[A-Za-z0-9_.:/\- ]+$/;
const RULE_FORBIDDEN = /[\n\r;#]/;

function invalid(message: string): MoorError {
  return new MoorError('invalid-input', `invalid nftables table: ${message}`);
}

function checkName(kind: string, name: string): void {
  if (!NAME.test(name)) throw invalid(`${kind} name "${name}" must match ${NAME.source}`);
}

function checkFlags(owner: string, flags: NftSetFlag[] | undefined): void {
  for (const f of flags ?? []) {
    if (!['constant', 'interval', 'timeout', 'dynamic'].includes(f))
      throw invalid(`${owner}: unknown flag "${f}"`);
  }
}

function checkElement(owner: string, e: string): void {
  if (!ELEMENT.test(e)) throw invalid(`${owner}: element "${e}" has characters outside ${ELEMENT.source}`);
}

function balanced(rule: string): boolean {
  let depth = 0;
  for (const ch of rule) {
    if (ch === '{') depth++;
    if (ch === '}' && --depth < 0) return false;
  }
  return depth === 0;
}

/** Validate and fill defaults; throws MoorError 'invalid-input'. */
export function normalizeTableSpec(spec: NftTableSpec): Required<NftTableSpec> {
  checkName('table', spec.name);
  const family = spec.family ?? 'inet';
  const seen = new Set<string>();
  const unique = (kind: string, name: string): void => {
    checkName(kind, name);
    const key = `${kind === 'chain' ? 'chain' : 'set'}:${name}`;
    if (seen.has(key))
      throw invalid(`${kind} "${name}" is defined twice (sets and maps share one namespace)`);
    seen.add(key);
  };
  for (const s of spec.sets ?? []) {
    unique('set', s.name);
    if (!TYPE.test(s.type)) throw invalid(`set ${s.name}: bad type "${s.type}"`);
    checkFlags(`set ${s.name}`, s.flags);
    for (const e of s.elements ?? []) checkElement(`set ${s.name}`, e);
  }
  for (const m of spec.maps ?? []) {
    unique('map', m.name);
    if (!TYPE.test(m.type) || !TYPE.test(m.valueType))
      throw invalid(`map ${m.name}: bad type "${m.type} : ${m.valueType}"`);
    checkFlags(`map ${m.name}`, m.flags);
    for (const [k, v] of m.elements ?? []) {
      checkElement(`map ${m.name}`, k);
      checkElement(`map ${m.name}`, v);
    }
  }
  for (const c of spec.chains ?? []) {
    unique('chain', c.name);
    for (const r of c.rules ?? []) {
      if (r.trim() === '' || RULE_FORBIDDEN.test(r) || !balanced(r)) {
        throw invalid(
          `chain ${c.name}: rule "${r}" is empty, has a newline, ";" or "#", or unbalanced braces`,
        );
      }
    }
    const p = c.base?.priority;
    if (typeof p === 'number' && !Number.isInteger(p))
      throw invalid(`chain ${c.name}: priority must be an integer`);
    if (typeof p === 'string' && !(p in PRIORITY_NUMBERS))
      throw invalid(`chain ${c.name}: unknown priority "${p}"`);
  }
  // Elements are unordered in nftables; sorting makes the rendered text independent of input order.
  const sets = (spec.sets ?? []).map((s) => ({ ...s, elements: [...new Set(s.elements ?? [])].sort() }));
  const maps = (spec.maps ?? []).map((m) => ({
    ...m,
    elements: [...(m.elements ?? [])].sort(([a], [b]) => compareText(a, b)),
  }));
  return { family, name: spec.name, sets, maps, chains: spec.chains ?? [] };
}

export function priorityNumber(p: number | NftPriorityName): number {
  return typeof p === 'number' ? p : PRIORITY_NUMBERS[p];
}
