// server.publishQos 2 promises that the broker takes each event exactly once. A broker that
// downgrades QoS 2 to 1 (RabbitMQ 3.x does, on publish and subscribe) would make that promise
// quietly false, and it says so in its SUBACK: ask for QoS 2 on a quiet topic the server
// reads anyway (slack/health) and see what is granted.
import type { MqttClient } from 'mqtt';

export const QOS2_DOWNGRADED =
  'server.publishQos is 2, but the broker grants at most QoS 1 (RabbitMQ downgrades QoS 2 to 1): set server.publishQos to 1, or use a broker with QoS 2';

/** False when the broker granted less than QoS 2 (a refusal, 128, is an ACL matter, not this). */
export async function brokerKeepsQos2(client: MqttClient, topic: string): Promise<boolean> {
  const granted = await client.subscribeAsync(topic, { qos: 2 });
  return granted.every((g) => g.qos === 2 || g.qos === 128);
}
