// REST paths of the resources moor reads and writes on a broker.
const ns = (namespace: string) => encodeURIComponent(namespace);

export const brokerPaths = {
  clusters: (namespace: string) => `/apis/submariner.io/v1/namespaces/${ns(namespace)}/clusters`,
  endpoints: (namespace: string) => `/apis/submariner.io/v1/namespaces/${ns(namespace)}/endpoints`,
  serviceImports: (namespace: string) =>
    `/apis/multicluster.x-k8s.io/v1alpha1/namespaces/${ns(namespace)}/serviceimports`,
  endpointSlices: (namespace: string) =>
    `/apis/discovery.k8s.io/v1/namespaces/${ns(namespace)}/endpointslices`,
  serviceAccounts: (namespace: string) => `/api/v1/namespaces/${ns(namespace)}/serviceaccounts`,
  secrets: (namespace: string) => `/api/v1/namespaces/${ns(namespace)}/secrets`,
  configMaps: (namespace: string) => `/api/v1/namespaces/${ns(namespace)}/configmaps`,
  roleBindings: (namespace: string) =>
    `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns(namespace)}/rolebindings`,
  leases: (namespace: string) => `/apis/coordination.k8s.io/v1/namespaces/${ns(namespace)}/leases`,
};

export function itemPath(collection: string, name: string): string {
  return `${collection}/${encodeURIComponent(name)}`;
}
