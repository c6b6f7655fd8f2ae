/**
 * A stand-in OpenTelemetry collector for the exporter tests: an HTTP server on 127.0.0.1 (a free port) that keeps
 * what OTLP/HTTP exporters post to `/v1/traces` (JSON, gzipped or not) and answers as a collector does, and the
 * OTLP JSON shapes the tests read. Also a free port for a Prometheus exporter, and a parser of the text exposition.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

/** An OTLP `KeyValue` as the JSON encoding writes it (one of the value fields is set). */
export interface OtlpKeyValue {
  readonly key: string;
  readonly value: { stringValue?: string; intValue?: number | string; doubleValue?: number; boolValue?: boolean };
}

export interface OtlpSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId?: string;
  readonly name: string;
  /** 1 INTERNAL, 2 SERVER, 3 CLIENT, 4 PRODUCER, 5 CONSUMER. */
  readonly kind: number;
  readonly startTimeUnixNano: string;
  readonly endTimeUnixNano: string;
  readonly attributes: readonly OtlpKeyValue[];
  readonly events: ReadonlyArray<{ readonly name: string; readonly attributes: readonly OtlpKeyValue[] }>;
  readonly links: ReadonlyArray<{ readonly traceId: string; readonly spanId: string }>;
  /** `code`: 0 UNSET, 1 OK, 2 ERROR (absent when UNSET). */
  readonly status: { readonly code?: number; readonly message?: string };
}

interface ExportTraceServiceRequest {
  readonly resourceSpans: ReadonlyArray<{
    readonly resource: { readonly attributes: readonly OtlpKeyValue[] };
    readonly scopeSpans: ReadonlyArray<{ readonly scope: { readonly name: string }; readonly spans: readonly OtlpSpan[] }>;
  }>;
}

/** A span as received, with the name of its instrumentation scope. */
export interface ReceivedSpan extends OtlpSpan {
  readonly scope: string;
}

/** One POST the collector received. */
export interface ReceivedRequest {
  readonly path: string;
  readonly contentType: string | undefined;
  readonly body: ExportTraceServiceRequest;
}

/** The attributes of a span or an event as a plain object (64-bit integers, which JSON may send as strings, as numbers). */
export function attributesOf(keyValues: readonly OtlpKeyValue[]): Record<string, unknown> {
  const attributes: Record<string, unknown> = {};
  for (const { key, value } of keyValues) {
    attributes[key] = value.intValue !== undefined ? Number(value.intValue) : (value.stringValue ?? value.doubleValue ?? value.boolValue);
  }
  return attributes;
}

export class OtlpCollector {
  readonly requests: ReceivedRequest[] = [];
  readonly #server: Server;

  private constructor(server: Server) {
    this.#server = server;
  }

  /** Listens on 127.0.0.1, on a port the system picks. */
  static async start(): Promise<OtlpCollector> {
    const server = createServer();
    const collector = new OtlpCollector(server);
    server.on('request', (request, response) => {
      void readBody(request).then(
        (body) => {
          collector.requests.push({ path: request.url ?? '', contentType: request.headers['content-type'], body: JSON.parse(body) });
          response.writeHead(200, { 'content-type': 'application/json' }).end('{}'); // an ExportTraceServiceResponse: all accepted
        },
        () => response.writeHead(400).end(),
      );
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return collector;
  }

  /** The base URL, as OTEL_EXPORTER_OTLP_ENDPOINT takes it (exporters append `/v1/traces`). */
  get endpoint(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  /** Every span received so far, in the order received. */
  spans(): ReceivedSpan[] {
    return this.requests.flatMap((request) =>
      request.body.resourceSpans.flatMap((resource) =>
        resource.scopeSpans.flatMap((scope) => scope.spans.map((span) => ({ ...span, scope: scope.scope.name }))),
      ),
    );
  }

  /** The one span named `name`; fails when there is none or several. */
  one(name: string): ReceivedSpan {
    const found = this.spans().filter((span) => span.name === name);
    if (found.length !== 1) throw new Error(`Expected one span named \`${name}\`, received ${found.length}: ${this.names().join(', ')}`);
    return found[0] as ReceivedSpan;
  }

  names(): string[] {
    return this.spans().map((span) => span.name);
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections(); // the exporters keep their connections alive
    this.#server.close();
    await once(this.#server, 'close');
  }
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const bytes = Buffer.concat(chunks);
  return (request.headers['content-encoding'] === 'gzip' ? gunzipSync(bytes) : bytes).toString('utf8');
}

/**
 * A TCP port free on 127.0.0.1 now. PrometheusExporter cannot be asked for an ephemeral port (it reads `port: 0` as
 * "not given" and takes 9464), so the tests find one and hand it over.
 */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

/** One sample of a Prometheus text exposition: `name{labels} value`. */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** The samples of a Prometheus text exposition (comment lines left out). */
export function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (match === null) continue;
    const labels: Record<string, string> = {};
    for (const label of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[label[1] as string] = (label[2] as string).replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    }
    samples.push({ name: match[1] as string, labels, value: match[3] === '+Inf' ? Infinity : Number(match[3]) });
  }
  return samples;
}
