import { once } from 'node:events';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';

interface ReflectionResponse {
  list_services_response?: { service: Array<{ name: string }> };
  file_descriptor_response?: { file_descriptor_proto: Buffer[] };
  error_response?: { error_code: number; error_message: string };
}
type ReflectionStub = grpc.Client & {
  ServerReflectionInfo(): grpc.ClientDuplexStream<Record<string, string>, ReflectionResponse>;
};

// The reflection proto that @grpc/reflection ships, so the test speaks the public v1 API.
const require = createRequire(import.meta.url);
const protoDir = path.join(path.dirname(require.resolve('@grpc/reflection/package.json')), 'build', 'proto');
const definition = loadSync('grpc/reflection/v1/reflection.proto', {
  includeDirs: [protoDir],
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
});
const ServerReflection = (
  grpc.loadPackageDefinition(definition) as unknown as {
    grpc: {
      reflection: {
        v1: { ServerReflection: new (address: string, creds: grpc.ChannelCredentials) => ReflectionStub };
      };
    };
  }
).grpc.reflection.v1.ServerReflection;

/** Sends one `grpc.reflection.v1` request to `address` and returns the answer. */
export async function askReflection(
  address: string,
  request: Record<string, string>,
): Promise<ReflectionResponse> {
  const client = new ServerReflection(address, grpc.credentials.createInsecure());
  try {
    const call = client.ServerReflectionInfo();
    call.write(request);
    const [response] = (await once(call, 'data')) as [ReflectionResponse];
    call.end();
    return response;
  } finally {
    client.close();
  }
}
