/**
 * The real OpenTelemetry SDK, as a user would set it up, with in-memory exporters the tests read: a tracer
 * provider (sdk-trace-base, InMemorySpanExporter), a meter provider (sdk-metrics, InMemoryMetricExporter, read on
 * demand) and the AsyncLocalStorage context manager (context-async-hooks) registered globally for the file.
 */
import { context, type Attributes } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
  type DataPoint,
  type Histogram,
} from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll } from 'vitest';
import type { TaskEngineOptions } from '../../src/index.js';
import { instrument } from '../../src/otel/index.js';
import { simulatedEngine } from '../helpers.js';

/** Registers the AsyncLocalStorage context manager for the file's tests (as NodeSDK does), and removes it after. */
export function useContextManager(): void {
  beforeAll(() => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  });
  afterAll(() => {
    context.disable();
  });
}

export class Traces {
  readonly exporter = new InMemorySpanExporter();
  readonly provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(this.exporter)] });

  spans(): ReadableSpan[] {
    return this.exporter.getFinishedSpans();
  }

  /** The one finished span named `name`; fails when there is none or several. */
  one(name: string): ReadableSpan {
    const found = this.spans().filter((span) => span.name === name);
    if (found.length !== 1)
      throw new Error(
        `Expected one span named \`${name}\`, found ${found.length}: ${this.spans()
          .map((s) => s.name)
          .join(', ')}`,
      );
    return found[0] as ReadableSpan;
  }

  all(name: string): ReadableSpan[] {
    return this.spans().filter((span) => span.name === name);
  }
}

/** The span id of `span`'s parent, or undefined for a root span. */
export function parentOf(span: ReadableSpan): string | undefined {
  return span.parentSpanContext?.spanId;
}

export function idOf(span: ReadableSpan): string {
  return span.spanContext().spanId;
}

export class Metrics {
  readonly exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  readonly reader = new PeriodicExportingMetricReader({ exporter: this.exporter, exportIntervalMillis: 3_600_000 });
  readonly provider = new MeterProvider({ readers: [this.reader] });

  /** Collects now: every data point of the instrument `name` (the last collection's). */
  async points(name: string): Promise<Array<DataPoint<unknown>>> {
    this.exporter.reset();
    await this.reader.forceFlush();
    const metrics = this.exporter.getMetrics().flatMap((resource) => resource.scopeMetrics.flatMap((scope) => scope.metrics));
    return metrics.filter((metric) => metric.descriptor.name === name).flatMap((metric) => metric.dataPoints as Array<DataPoint<unknown>>);
  }

  /** The value of the data point of `name` whose attributes are `attributes`; undefined when there is none. */
  async value(name: string, attributes: Attributes): Promise<unknown> {
    const points = await this.points(name);
    return points.find((point) => sameAttributes(point.attributes, attributes))?.value;
  }

  /** The histogram point of `name` with `attributes`: count, sum, min, max. */
  async histogram(name: string, attributes: Attributes): Promise<Histogram | undefined> {
    return (await this.value(name, attributes)) as Histogram | undefined;
  }

  shutdown(): Promise<void> {
    return this.provider.shutdown();
  }
}

function sameAttributes(a: Attributes, b: Attributes): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => a[key] === b[key]);
}

/** An engine on XState's SimulatedClock, instrumented with a tracer provider and a meter provider of the SDK's, in memory. */
export function instrumentedSimulation(options: TaskEngineOptions = {}) {
  const traces = new Traces();
  const metrics = new Metrics();
  const sim = simulatedEngine(options);
  const instrumented = instrument(sim.engine, { tracerProvider: traces.provider, meterProvider: metrics.provider });
  return { ...sim, traces, metrics, instrumented };
}
