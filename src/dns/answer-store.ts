// Precomputed answers. Whenever the record index changes, every name that can carry records is
// resolved once and its answer section encoded; a query then costs one map lookup and a copy.
// Names outside this set (NXDOMAIN, unusual spellings) take the slow path in answer.ts, which runs
// the same classify + resolve functions, so precomputation can only make answers faster, not
// different.

import type { ServicePort } from '../broker/lighthouseImports.ts';
import {
  RCODE_NOERROR,
  RCODE_NOTIMP,
  RCODE_NXDOMAIN,
  RCODE_REFUSED,
  TYPE_A,
  TYPE_AAAA,
  TYPE_SRV,
} from './constants.ts';
import { classifyName, type Zone } from './names.ts';
import type { RecordIndex, Rotation, ServiceRecords } from './records.ts';
import { type Resolution, resolveServiceQuery } from './resolve.ts';
import { type EncodedRecords, encodeARecords, encodeSrvRecords, NO_RECORDS } from './wire-write.ts';

export interface PreparedAnswer {
  readonly rcode: number;
  readonly authoritative: boolean;
  /** One answer section, or several that successive queries rotate through. */
  readonly variants: readonly EncodedRecords[];
  readonly rotation: Rotation | null;
}

export interface NameAnswers {
  a?: PreparedAnswer;
  aaaa?: PreparedAnswer;
  srv?: PreparedAnswer;
}

export interface AnswerStore {
  readonly index: RecordIndex;
  readonly zones: readonly Zone[];
  readonly ttl: number;
  /** Keyed by lower-cased presentation name without trailing dot, as `parseQuery` produces. */
  readonly names: ReadonlyMap<string, NameAnswers>;
}

function fixed(rcode: number, authoritative: boolean): PreparedAnswer {
  return { rcode, authoritative, variants: [NO_RECORDS], rotation: null };
}

// Lighthouse replies are authoritative, including its NOTIMP and NXDOMAIN (`writeResponse`);
// REFUSED comes from the CoreDNS server itself when no server block matches, and is not.
export const NODATA_ANSWER = fixed(RCODE_NOERROR, true);
export const NXDOMAIN_ANSWER = fixed(RCODE_NXDOMAIN, true);
export const NOTIMP_ANSWER = fixed(RCODE_NOTIMP, true);
export const REFUSED_ANSWER = fixed(RCODE_REFUSED, false);

export function prepareResolution(resolution: Resolution, ttl: number): PreparedAnswer {
  if (resolution.rcode === 'NXDOMAIN') return NXDOMAIN_ANSWER;
  const answer = resolution.answer;
  if (answer === null) return NODATA_ANSWER;
  switch (answer.kind) {
    case 'a':
      return { ...NODATA_ANSWER, variants: [encodeARecords(answer.ips, ttl)] };
    case 'a-rotating':
      return {
        ...NODATA_ANSWER,
        variants: answer.choices.map((ip) => encodeARecords([ip], ttl)),
        rotation: answer.rotation,
      };
    case 'srv':
      return { ...NODATA_ANSWER, variants: [encodeSrvRecords(answer.records, ttl)] };
  }
}

export function buildAnswerStore(index: RecordIndex, zones: readonly Zone[], ttl: number): AnswerStore {
  const names = new Map<string, NameAnswers>();
  const add = (name: string, qtype: number) => {
    const classified = classifyName(name, qtype, zones);
    if (classified.kind !== 'service') return;
    const prepared = prepareResolution(resolveServiceQuery(index, classified.query, qtype), ttl);
    const entry = names.get(name) ?? {};
    names.set(name, entry);
    if (qtype === TYPE_A) entry.a = prepared;
    else if (qtype === TYPE_AAAA) entry.aaaa = prepared;
    else entry.srv = prepared;
  };

  for (const service of index.services.values()) {
    const portFilters = srvPortFilters(service);
    for (const zone of zones) {
      const base = `${service.service}.${service.namespace}.svc.${zone.name}`;
      const owners = [base, ...[...service.clusters.keys()].map((cluster) => `${cluster}.${base}`)];
      for (const owner of owners) {
        for (const qtype of [TYPE_A, TYPE_AAAA, TYPE_SRV]) add(owner, qtype);
        for (const filter of portFilters) add(`${filter}.${owner}`, TYPE_SRV);
      }
      if (!service.headless) continue;
      for (const [clusterId, cluster] of service.clusters) {
        for (const host of cluster.byHost.keys()) {
          add(`${host}.${clusterId}.${base}`, TYPE_A);
          add(`${host}.${clusterId}.${base}`, TYPE_AAAA);
        }
      }
    }
  }
  return { index, zones, ttl, names };
}

const PLAIN_PORT_LABEL = /^[a-z0-9-]{0,62}$/;

/** `_<port>._<proto>` prefixes for every port the service's records mention. */
function srvPortFilters(service: ServiceRecords): string[] {
  const filters = new Set<string>();
  const seenLists = new Set<readonly ServicePort[]>();
  const addPorts = (ports: readonly ServicePort[]) => {
    if (seenLists.has(ports)) return;
    seenLists.add(ports);
    for (const p of ports) {
      const name = p.name.toLowerCase();
      if (PLAIN_PORT_LABEL.test(name)) filters.add(`_${name}._${p.protocol.toLowerCase()}`);
    }
  };
  addPorts(service.specPorts);
  addPorts(service.mergedPorts);
  for (const cluster of service.clusters.values())
    for (const record of cluster.endpoints) addPorts(record.ports);
  return [...filters];
}
