// @tidemark/cli: the `tidemark` command. Commands are thin: they read files and flags, call packages, print.
export { createProgram } from './program.js';
export { planTopics, compareTopics } from './topic-plan.js';
export {
  SERVICE_TOPOLOGIES,
  resolveInstances,
  instancesTopics,
  topologyOf,
} from './service-instances.js';
export type { ServiceInstance } from './service-instances.js';
export type { TopicSpec, ExistingTopic, TopicReport } from './topic-plan.js';
export { processOutput } from './io.js';
export type { Output } from './io.js';
export { histogramSeries } from './demo/prometheus.js';
export type { HistogramSeries } from './demo/prometheus.js';
export {
  runDemo,
  DemoAborted,
  DemoComponentFailed,
  DEMO_UNSCORED,
  DEMO_TRAFFIC,
} from './demo/run.js';
export type { DemoOptions, DemoResult, DeadLetter } from './demo/run.js';
export { demoLayout, demoTopicPlan, DEMO_EVENT_SKEW_MS, DEMO_SERVICES } from './demo/layout.js';
export type { DemoLayout, DemoProcess } from './demo/layout.js';
