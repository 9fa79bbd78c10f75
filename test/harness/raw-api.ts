// Raw JSON requests to a test API server. client-node's typed models drop fields whose names
// collide with its attribute names (a CRD schema's `enum`, `default`, `x-kubernetes-validations`
// come out empty through KubernetesObjectApi), so CRDs are created through this instead.
import { request } from 'node:https';
import type { ApiServer } from './apiserver.ts';

export interface RawResponse {
  status: number;
  body: string;
}

export function rawRequest(
  api: Pick<ApiServer, 'localUrl' | 'caPem' | 'adminToken'>,
  method: string,
  path: string,
  body?: unknown,
  contentType = 'application/json',
): Promise<RawResponse> {
  const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      `${api.localUrl}${path}`,
      {
        method,
        ca: api.caPem,
        timeout: 10_000,
        headers: {
          authorization: `Bearer ${api.adminToken}`,
          accept: 'application/json',
          ...(payload === undefined ? {} : { 'content-type': contentType }),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: timed out`)));
    req.on('error', reject);
    req.end(payload);
  });
}

/** Create a CRD exactly as written (not through client-node's models). */
export async function createCrdRaw(
  api: Pick<ApiServer, 'localUrl' | 'caPem' | 'adminToken'>,
  crd: object,
): Promise<void> {
  const r = await rawRequest(api, 'POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd);
  if (r.status !== 201) throw new Error(`creating a CRD failed with HTTP ${r.status}: ${r.body}`);
}
