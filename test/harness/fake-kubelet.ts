// What the scheduler and a kubelet would do for pods that real workload controllers (Deployment,
// ReplicaSet, Job, StatefulSet in kube-controller-manager) create, where no kubelet runs: bind
// every new pod to one node, report it Running and Ready with the next pod IP, and finish the
// graceful deletion of pods the controllers delete (a kubelet confirms those; without one they
// would stay Terminating forever). Polls; stop() before the API server goes away.
import { CoreV1Api, type KubeConfig, type V1Pod } from '@kubernetes/client-node';

export interface FakeKubelet {
  stop(): Promise<void>;
  /** Pods it has reported Running, by name → IP. */
  readonly ips: ReadonlyMap<string, string>;
}

export function startFakeKubelet(
  kc: KubeConfig,
  o: { namespace: string; node: string; hostIP: string; podIPs: (n: number) => string },
): FakeKubelet {
  const core = kc.makeApiClient(CoreV1Api);
  const ips = new Map<string, string>();
  let next = 0;
  let stopped = false;
  const step = async (pod: V1Pod) => {
    const name = pod.metadata?.name ?? '';
    if (pod.metadata?.deletionTimestamp) {
      await core.deleteNamespacedPod({ namespace: o.namespace, name, gracePeriodSeconds: 0 });
      return;
    }
    if (!pod.spec?.nodeName) {
      await core.createNamespacedPodBinding({
        namespace: o.namespace,
        name,
        body: { metadata: { name }, target: { kind: 'Node', name: o.node } },
      });
      return;
    }
    if (pod.status?.podIP) return;
    const ip = o.podIPs(next++);
    const now = new Date();
    pod.status = {
      phase: 'Running',
      podIP: ip,
      podIPs: [{ ip }],
      hostIP: o.hostIP,
      startTime: now,
      conditions: ['PodScheduled', 'Initialized', 'ContainersReady', 'Ready'].map((type) => ({
        type,
        status: 'True',
        lastTransitionTime: now,
      })),
      containerStatuses: (pod.spec.containers ?? []).map((c) => ({
        name: c.name,
        image: c.image ?? '',
        imageID: '',
        ready: true,
        restartCount: 0,
        started: true,
        state: { running: { startedAt: now } },
      })),
    };
    await core.replaceNamespacedPodStatus({ namespace: o.namespace, name, body: pod });
    ips.set(name, ip);
  };
  const loop = (async () => {
    while (!stopped) {
      try {
        const pods = await core.listNamespacedPod({ namespace: o.namespace });
        for (const pod of pods.items) if (!stopped) await step(pod).catch(() => undefined); // retried next round
      } catch {
        // the API server is busy or restarting: try again
      }
      await new Promise((r) => setTimeout(r, 150));
    }
  })();
  return {
    ips,
    stop: async () => {
      stopped = true;
      await loop;
    },
  };
}
