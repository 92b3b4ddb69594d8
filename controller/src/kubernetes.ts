/**
 * The controller in a cluster: `startController` and the parts it wires (informers, leader
 * election, status, fleet reports, admin). A separate entry point from `@switchyard/controller`
 * so that standalone `switchyard run` and the data plane never load @kubernetes/client-node.
 */
export { LeaderElectionConfigError, LeaderElector, JITTER_FACTOR, validateTimings } from './leader/leader-elector.ts';
export type { ElectionLogger, LeaderElectorOptions } from './leader/leader-elector.ts';
export { LeaseConflictError, sameRecord } from './leader/lease-lock.ts';
export type { LeaderRecord, LeaseLock, ObservedLease } from './leader/lease-lock.ts';
export { KubernetesLeaseLock } from './leader/kubernetes-lease-lock.ts';
export type { KubernetesLeaseLockOptions } from './leader/kubernetes-lease-lock.ts';
export { MemoryLeaseLock } from './leader/memory-lease-lock.ts';
export type { LeaseCall, LeaseOperation } from './leader/memory-lease-lock.ts';
export { startAdminServer } from './admin/admin-server.ts';
export type { AdminLogger, AdminServer, AdminServerOptions, Readiness } from './admin/admin-server.ts';
export { ControllerMetrics, INFORMER_KINDS } from './admin/controller-metrics.ts';
export type { ControllerMetricsOptions, InformerKind, ReconcileResult } from './admin/controller-metrics.ts';
export { KubernetesProvider } from './provider/kubernetes/index.ts';
export type { BackoffOptions, KubernetesProviderOptions, ProviderLogger, TokenSecretRef, World, WorldChanges } from './provider/kubernetes/index.ts';
// Status (leader only) and the fleet view merged across replicas: controller/src/status, controller/src/fleet.
export { computeStatuses, fleetServerHealth } from './status/compute.ts';
export type { ComputeInput, DesiredCondition, DesiredStatus, ServerCounts, ServerFleetHealth } from './status/compute.ts';
export { StatusWriter } from './status/status-writer.ts';
export type { StatusWriterOptions } from './status/status-writer.ts';
export { kubeStatusClient } from './status/status-client.ts';
export type { KubeObject, ObjectRef, StatusClient } from './status/status-client.ts';
export { EventRecorder, kubeEventClient } from './status/event-recorder.ts';
export type { EventClient, EventRecorderOptions, EventSink, EventTarget, EventType, KubeEvent } from './status/event-recorder.ts';
export { FleetEvents } from './status/fleet-events.ts';
export type { FleetEvent } from './status/fleet-events.ts';
export { StatusPipeline } from './status/status-pipeline.ts';
export type { FleetSource, StatusPipelineOptions } from './status/status-pipeline.ts';
export { FleetReporter } from './fleet/fleet-reporter.ts';
export type { FleetLogger, FleetReporterOptions } from './fleet/fleet-reporter.ts';
export { FleetView } from './fleet/fleet-view.ts';
export type { FleetViewOptions } from './fleet/fleet-view.ts';
export { kubeLeaseClient } from './fleet/lease-client.ts';
export type { FleetLease, LeaseClient, LeaseWatchEvent } from './fleet/lease-client.ts';
export { DATAPLANES_ANNOTATION, FLEET_REPORT_LABEL, fleetLeaseName } from './fleet/report.ts';
export type { SnapshotLookup } from './fleet/report.ts';
export { startController, type ControllerOptions, type HostPort, type RunningController } from './controller.ts';
