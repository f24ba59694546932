// The embedded broker as seen by a part in the same process (`bellhop start`): publishing
// and a live feed without a loopback TCP connection, MQTT encoding and parsing. Only an
// optimisation: every part works unchanged against a broker elsewhere, by URL.
export interface LocalBroker {
  /**
   * Publishes as a client's QoS 1/2 PUBLISH would be, past the ACL (the caller is a part of
   * this process). Resolves once the broker holds the message as it would before a PUBACK
   * (on disk, with the durable persistence) and has routed it.
   */
  publish(topic: string, payload: Buffer, qos: 1 | 2): Promise<void>;
  /** Hands every message matching `filter` to `handler`, in process: a view (QoS 0), not a durable session. */
  subscribe(filter: string, handler: (topic: string, payload: Buffer) => void): Promise<() => Promise<void>>;
}
