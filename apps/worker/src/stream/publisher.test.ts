import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { skipWithoutNats, startNatsServer, type NatsServer } from '@slipway/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPublisher, PublishError } from './publisher.js';

const skip = skipWithoutNats();
const bytes = (text: string) => new TextEncoder().encode(text);

describe.skipIf(skip)('createPublisher (real nats-server)', () => {
  let server: NatsServer;
  let nc: NatsConnection;

  beforeAll(async () => {
    server = await startNatsServer();
    nc = await connect({ servers: server.url });
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'OUT', subjects: ['out.>'], duplicate_window: 60e9 });
  }, 30_000);
  afterAll(async () => {
    await nc?.close();
    await server?.stop();
  });

  it('stores each message once by its id, with many acknowledgements outstanding', async () => {
    const publisher = createPublisher(nc, 5_000);
    const acks = await Promise.all(
      Array.from({ length: 2_000 }, (_, i) => publisher.publish('out.a', bytes(`m${i}`), `id-${i % 1_000}`)),
    );
    expect(acks.filter((a) => !a.duplicate)).toHaveLength(1_000);
    expect(acks.filter((a) => a.duplicate)).toHaveLength(1_000);
    expect(new Set(acks.filter((a) => !a.duplicate).map((a) => a.seq)).size).toBe(1_000);
    expect(acks.every((a) => a.stream === 'OUT')).toBe(true);
    const jsm = await jetstreamManager(nc);
    expect((await jsm.streams.info('OUT')).state.messages).toBe(1_000);
    publisher.close();
  });

  it('fails clearly when no stream captures the subject, and after close', async () => {
    const publisher = createPublisher(nc, 5_000);
    await expect(publisher.publish('nowhere.x', bytes('x'), 'n1')).rejects.toThrow(PublishError);
    await expect(publisher.publish('nowhere.x', bytes('x'), 'n2')).rejects.toThrow(
      'no JetStream stream captures',
    );
    publisher.close();
    await expect(publisher.publish('out.a', bytes('x'), 'n3')).rejects.toThrow('closed');
  });
});
