// A port that cannot be had, said in the user's terms: which setting picks another one,
// instead of a bare "listen EADDRINUSE 127.0.0.1:1883".
export interface ListenTarget {
  /** What listens, as the user knows it: "the embedded MQTT broker", "the HTTP server". */
  what: string;
  host: string;
  port: number;
  /** The setting that changes the port, e.g. "BELLHOP_MQTT_PORT (broker.port)". */
  portSetting: string;
  hostSetting: string;
  /** Another way out, e.g. using the broker that holds the port. */
  alternative?: string;
}

export function listenError(err: unknown, target: ListenTarget): Error {
  const code = (err as { code?: unknown }).code;
  const where = `${target.what} cannot listen on ${target.host}:${target.port}`;
  const or = target.alternative ? `, or ${target.alternative}` : '';
  let message: string;
  if (code === 'EADDRINUSE') {
    message = `${where}: the port is in use (another bellhop? \`ss -ltnp 'sport = :${target.port}'\` shows which program). Choose a free port with ${target.portSetting}${or}`;
  } else if (code === 'EACCES') {
    message = `${where}: ports below 1024 need root; choose one from 1024 up with ${target.portSetting}`;
  } else if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') {
    message = `${where}: this machine has no address ${target.host}; fix ${target.hostSetting} (127.0.0.1 for this machine only, 0.0.0.0 for every interface)`;
  } else {
    return err instanceof Error ? err : new Error(String(err));
  }
  return new Error(message, { cause: err });
}
