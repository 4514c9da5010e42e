import { AggregatorRegistry, collectDefaultMetrics, Counter, Gauge, Histogram, Registry, type MetricObjectWithValues, type MetricValue } from 'prom-client';

/** Metrics kept elsewhere in the process (a role's thread), read when /metrics is asked. */
export type MetricsSource = () => Promise<MetricObjectWithValues<MetricValue<string>>[]>;

/**
 * The process's Prometheus metrics (prom-client): Node's defaults plus HTTP and WebSocket
 * figures. One registry per app instance, so tests can run several gateways in one process. A
 * role in a thread of its own keeps its metrics there; its registry is a source, merged in when
 * /metrics is read.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly httpDuration: Histogram<'method' | 'route' | 'status'>;
  readonly wsConnections: Gauge;

  private readonly sources = new Set<MetricsSource>();

  /** @param defaults Node's process metrics: off in a role's thread, whose process is the main thread's. */
  constructor(defaults = true) {
    if (defaults) collectDefaultMetrics({ register: this.registry });
    this.httpDuration = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP requests by method, route and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [this.registry],
    });
    this.wsConnections = new Gauge({
      name: 'websocket_connections',
      help: 'Open graphql-ws connections',
      registers: [this.registry],
    });
  }

  counter<L extends string>(name: string, help: string, labelNames: L[] = []): Counter<L> {
    return new Counter({ name, help, labelNames, registers: [this.registry] });
  }

  histogram<L extends string>(name: string, help: string, labelNames: L[], buckets: number[]): Histogram<L> {
    return new Histogram({ name, help, labelNames, buckets, registers: [this.registry] });
  }

  gauge<L extends string>(name: string, help: string, labelNames: L[] = []): Gauge<L> {
    return new Gauge({ name, help, labelNames, registers: [this.registry] });
  }

  /** Adds metrics kept elsewhere; the returned function removes them again. */
  addSource(source: MetricsSource): () => void {
    this.sources.add(source);
    return () => this.sources.delete(source);
  }

  /** The Prometheus text of this registry and every source; a source that fails to answer is left out. */
  async text(): Promise<string> {
    if (this.sources.size === 0) return this.registry.metrics();
    const own = await this.registry.getMetricsAsJSON();
    const others = await Promise.all([...this.sources].map((s) => s().catch(() => [])));
    return AggregatorRegistry.aggregate([own, ...others]).metrics();
  }
}
