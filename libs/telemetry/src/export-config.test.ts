import { describe, expect, it } from 'vitest';
import { isSdkDisabled, resolveTraceExport } from './export-config.js';

describe('resolveTraceExport', () => {
  it('exports nothing when no endpoint is set, so no app dials localhost:4318', () => {
    expect(resolveTraceExport({})).toMatchObject({ export: false, warnings: [] });
    expect(
      resolveTraceExport({ OTEL_EXPORTER_OTLP_ENDPOINT: '  ', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }),
    ).toMatchObject({
      export: false,
    });
  });

  it('defaults to http/protobuf and takes the general endpoint', () => {
    expect(resolveTraceExport({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://jaeger:4318' })).toEqual({
      export: true,
      protocol: 'http/protobuf',
      endpoint: 'http://jaeger:4318',
      warnings: [],
    });
  });

  it('prefers the traces-specific endpoint and protocol over the general ones', () => {
    expect(
      resolveTraceExport({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://b:4317',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'grpc',
      }),
    ).toMatchObject({ export: true, protocol: 'grpc', endpoint: 'http://b:4317' });
  });

  it.each(['grpc', 'http/protobuf', 'http/json'])('accepts protocol %s', (protocol) => {
    expect(
      resolveTraceExport({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'https://otel.example.com',
        OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
      }),
    ).toMatchObject({ export: true, protocol });
  });

  it('refuses an unknown protocol or a malformed endpoint with a warning that names the variable', () => {
    const badProtocol = resolveTraceExport({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'thrift',
    });
    expect(badProtocol.export).toBe(false);
    expect(badProtocol.warnings.join()).toMatch(/OTEL_EXPORTER_OTLP_PROTOCOL="thrift"/);

    const notUrl = resolveTraceExport({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'collector:4317' });
    expect(notUrl.export).toBe(false);
    expect(notUrl.warnings.join()).toMatch(/OTEL_EXPORTER_OTLP_TRACES_ENDPOINT="collector:4317"/);

    const notHttp = resolveTraceExport({ OTEL_EXPORTER_OTLP_ENDPOINT: 'ftp://a' });
    expect(notHttp.export).toBe(false);
  });

  it('honours OTEL_TRACES_EXPORTER=none and warns about exporters it does not ship', () => {
    expect(
      resolveTraceExport({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318' }),
    ).toMatchObject({
      export: false,
    });
    const zipkin = resolveTraceExport({
      OTEL_TRACES_EXPORTER: 'zipkin',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318',
    });
    expect(zipkin).toMatchObject({ export: true, protocol: 'http/protobuf' });
    expect(zipkin.warnings).toHaveLength(1);
  });
});

describe('isSdkDisabled', () => {
  it('is true only for "true", in any case', () => {
    expect(isSdkDisabled({ OTEL_SDK_DISABLED: 'TRUE' })).toBe(true);
    expect(isSdkDisabled({ OTEL_SDK_DISABLED: 'true ' })).toBe(true);
    expect(isSdkDisabled({ OTEL_SDK_DISABLED: '1' })).toBe(false);
    expect(isSdkDisabled({})).toBe(false);
  });
});
