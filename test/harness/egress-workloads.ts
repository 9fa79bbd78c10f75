// Workloads for the egress data path without a kube-controller-manager (egress-topology.ts runs
// none): a Deployment and its ReplicaSets as API objects, and pods owned by a ReplicaSet, the way
// the deployment and replicaset controllers would leave them. A rollout is what the deployment
// controller does: a new template, a new ReplicaSet, a new pod, the old pod deleted, the old
// ReplicaSet scaled to 0 (kept, as Deployments keep their history).
import { AppsV1Api, CoreV1Api, type KubeConfig, type V1PodTemplateSpec } from '@kubernetes/client-node';
import type { EgressCluster } from './egress-topology.ts';
import type { Host } from './topology.ts';

export interface Owner {
  kind: 'ReplicaSet';
  name: string;
  uid: string;
}

export interface DeploymentHandle {
  name: string;
  namespace: string;
  /** The current ReplicaSet (after the last rollout). */
  replicaSet: Owner;
  /** Creates the next template revision and its ReplicaSet; the caller replaces the pods. */
  rollout(revision: string): Promise<Owner>;
  /** Scales a ReplicaSet to 0, as the deployment controller does with the old one. */
  scaleDown(rs: Owner): Promise<void>;
}

const template = (labels: Record<string, string>, revision: string): V1PodTemplateSpec => ({
  metadata: { labels: { ...labels, 'pod-template-hash': revision } },
  spec: { containers: [{ name: 'app', image: `app:${revision}` }] },
});

export async function createDeployment(
  kc: KubeConfig,
  namespace: string,
  name: string,
  labels: Record<string, string>,
  revision: string,
): Promise<DeploymentHandle> {
  const apps = kc.makeApiClient(AppsV1Api);
  const dep = await apps.createNamespacedDeployment({
    namespace,
    body: {
      metadata: { name, labels },
      spec: { replicas: 1, selector: { matchLabels: labels }, template: template(labels, revision) },
    },
  });
  const newReplicaSet = async (rev: string): Promise<Owner> => {
    const rs = await apps.createNamespacedReplicaSet({
      namespace,
      body: {
        metadata: {
          name: `${name}-${rev}`,
          labels: { ...labels, 'pod-template-hash': rev },
          ownerReferences: [
            {
              apiVersion: 'apps/v1',
              kind: 'Deployment',
              name,
              uid: dep.metadata?.uid ?? '',
              controller: true,
              blockOwnerDeletion: true,
            },
          ],
        },
        spec: {
          replicas: 1,
          selector: { matchLabels: { ...labels, 'pod-template-hash': rev } },
          template: template(labels, rev),
        },
      },
    });
    return { kind: 'ReplicaSet', name: rs.metadata?.name ?? '', uid: rs.metadata?.uid ?? '' };
  };
  const handle: DeploymentHandle = {
    name,
    namespace,
    replicaSet: await newReplicaSet(revision),
    async rollout(rev) {
      const current = await apps.readNamespacedDeployment({ namespace, name });
      if (current.spec) current.spec.template = template(labels, rev);
      await apps.replaceNamespacedDeployment({ namespace, name, body: current });
      handle.replicaSet = await newReplicaSet(rev);
      return handle.replicaSet;
    },
    async scaleDown(rs) {
      const current = await apps.readNamespacedReplicaSet({ namespace, name: rs.name });
      if (current.spec) current.spec.replicas = 0;
      await apps.replaceNamespacedReplicaSet({ namespace, name: rs.name, body: current });
    },
  };
  return handle;
}

/** A pod of `owner` (name `<replicaset>-<suffix>`), created with its controller reference. */
export async function addOwnedPod(
  c: EgressCluster,
  owner: Owner,
  suffix: string,
  node: 'w1' | 'w2',
  ip: string,
  labels: Record<string, string>,
  namespace = 'shop',
): Promise<{ name: string; host: Host }> {
  const name = `${owner.name}-${suffix}`;
  const host = await c.addPod(name, node, ip, labels, namespace, {
    ownerReferences: [
      { apiVersion: 'apps/v1', kind: owner.kind, name: owner.name, uid: owner.uid, controller: true },
    ],
  });
  return { name, host };
}

export async function deletePod(kc: KubeConfig, namespace: string, name: string): Promise<void> {
  await kc.makeApiClient(CoreV1Api).deleteNamespacedPod({ namespace, name, gracePeriodSeconds: 0 });
}
