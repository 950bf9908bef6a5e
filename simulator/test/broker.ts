import { once } from 'node:events';
import net, { type AddressInfo } from 'node:net';
import { Aedes } from 'aedes';
import { connectAsync, type MqttClient } from 'mqtt';

export interface ReceivedMessage {
  topic: string;
  payload: unknown;
  retain: boolean;
}

/** A real MQTT broker on an ephemeral port, for publishing into and listening at. */
export interface TestBroker {
  url: string;
  broker: Aedes;
  /** A subscriber that records everything under a filter, in the order it arrives. */
  listen(filter: string): Promise<{ client: MqttClient; received: ReceivedMessage[] }>;
  close(): Promise<void>;
}

export async function startBroker(): Promise<TestBroker> {
  const broker = await Aedes.createBroker();
  const server = net.createServer(broker.handle);
  const sockets = new Set<net.Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const clients: MqttClient[] = [];
  return {
    url,
    broker,
    async listen(filter) {
      const client = await connectAsync(url, { reconnectPeriod: 0 });
      clients.push(client);
      const received: ReceivedMessage[] = [];
      client.on('message', (topic, payload, packet) => {
        received.push({ topic, payload: JSON.parse(payload.toString('utf8')), retain: packet.retain });
      });
      await client.subscribeAsync(filter, { qos: 1 });
      return { client, received };
    },
    async close() {
      await Promise.all(clients.map((client) => client.endAsync(true)));
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      // server.close waits for open sockets: a client that never said goodbye must not hold the test.
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
