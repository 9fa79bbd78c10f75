// Wire constants of Lighthouse service discovery (spec §4 table; LH pkg/constants/constants.go,
// MCS v0.1.0 well_known_labels.go). They are the format other clusters parse, so they are quoted
// verbatim and never derived.

export const MCS_API_VERSION = 'multicluster.x-k8s.io/v1alpha1';
export const DISCOVERY_API_VERSION = 'discovery.k8s.io/v1';

/** `mcsv1a1.LabelServiceName`: a label on EndpointSlices, an annotation on the aggregated import. */
export const LABEL_SERVICE_NAME = 'multicluster.kubernetes.io/service-name';
/** `MCSLabelSourceCluster`. */
export const LABEL_SOURCE_CLUSTER = 'multicluster.kubernetes.io/source-cluster';
/** `LabelSourceNamespace`: the namespace always travels here; there is no service-namespace label. */
export const LABEL_SOURCE_NAMESPACE = 'lighthouse.submariner.io/sourceNamespace';
/** `LabelIsHeadless` ("true"/"false"); a slice without it is read as pre-0.15 legacy. */
export const LABEL_IS_HEADLESS = 'lighthouse.submariner.io/is-headless';
/** `LabelSourceName`: headless only, the name of the source Kubernetes EndpointSlice. */
export const LABEL_SOURCE_NAME = 'lighthouse.submariner.io/source-name';
/** `discovery.LabelManagedBy`, whose value selects Lighthouse's slices everywhere. */
export const LABEL_MANAGED_BY = 'endpointslice.kubernetes.io/managed-by';
/** `LabelValueManagedBy`. */
export const MANAGED_BY_LIGHTHOUSE = 'lighthouse-agent.submariner.io';

/** `PublishNotReadyAddresses` (annotation, "true"/"false"). */
export const ANNOTATION_PUBLISH_NOT_READY = 'lighthouse.submariner.io/publish-not-ready-addresses';
/** `GlobalnetEnabled` (annotation): "true" only for headless slices under globalnet. */
export const ANNOTATION_GLOBALNET_ENABLED = 'lighthouse.submariner.io/globalnet-enabled';
/** `UseClustersetIP` (annotation on the aggregated import). */
export const ANNOTATION_USE_CLUSTERSET_IP = 'lighthouse.submariner.io/use-clusterset-ip';
/** `ClustersetIPAllocatedBy` (annotation on the aggregated import). */
export const ANNOTATION_CLUSTERSET_IP_ALLOCATED_BY = 'lighthouse.submariner.io/clusterset-ip-allocated-by';
/** Prefix of the per-exporter ServiceExport timestamp annotation (LH `service_import.go`). */
export const TIMESTAMP_ANNOTATION_PREFIX = 'timestamp.submariner.io/';

/** Pre-0.15 keys: only recognised, never written. */
export const LEGACY_LABEL_SOURCE_NAME = 'lighthouse.submariner.io/sourceName';
export const LEGACY_LABEL_SOURCE_CLUSTER = 'lighthouse.submariner.io/sourceCluster';
export const LEGACY_ANNOTATION_ORIGIN_NAME = 'origin-name';
export const LEGACY_ANNOTATION_ORIGIN_NAMESPACE = 'origin-namespace';

/** Added by admiral's broker syncer to every object it copies to the broker (spec §2.6, §4.3). */
export const LABEL_ORIGINATING_NAMESPACE = 'submariner-io/originatingNamespace';

/**
 * Lighthouse's default `import-namespace-deny-list` ("kube-,openshift-,openshift"): an entry that
 * ends in '-' is a prefix, any other entry must match exactly (LH namespace_validator.go).
 */
export const IMPORT_NAMESPACE_DENY_LIST: readonly string[] = ['kube-', 'openshift-', 'openshift'];

/**
 * `MaxInt64-1`: the timestamp a real agent writes when it cannot find its ServiceExport, which
 * makes that cluster the newest exporter.
 */
export const UNKNOWN_EXPORT_TIMESTAMP_NS = '9223372036854775806';
