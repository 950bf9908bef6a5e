/** Called for every message a sensor publishes; `done` acknowledges it to the transport. */
export type MessageHandler = (topic: string, payload: Buffer, done: () => void) => void;

/**
 * Where the gateway meets its sensors: the embedded aedes broker, or (external-broker mode) a
 * client of the site's own broker. The rest of the gateway does not know which.
 */
export interface MqttTransport {
  /** For logs and /health: where sensors connect. */
  readonly endpoint: string;
  start(subscriptions: string[], onMessage: MessageHandler): Promise<void>;
  publish(topic: string, payload: string, options: { qos: 0 | 1; retain: boolean }): Promise<void>;
  stop(): Promise<void>;
}
