// `bellhop rabbitmq-config --out DIR`: rabbitmq.conf and definitions.json equivalent to the
// embedded broker (same logins, same per-role grants), for teams moving to RabbitMQ's MQTT plugin.
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { rabbitmqFiles, writeRabbitmqFiles } from '../../broker/rabbitmq-files.js';
import { print, setup } from '../context.js';

interface Options {
  out: string;
  vhost: string;
  quorum?: boolean;
}

export function registerRabbitmqConfig(program: Command): void {
  program
    .command('rabbitmq-config')
    .description("write rabbitmq.conf and definitions.json (users, vhost, topic grants) equivalent to the embedded broker, for RabbitMQ's MQTT plugin")
    .requiredOption('--out <dir>', 'folder to write the files into')
    .option('--vhost <name>', "the virtual host bellhop's clients use", 'bellhop')
    .option('--quorum', 'keep persistent sessions in quorum queues (replicated: for a cluster, so a lost node takes no bell\'s queue with it)')
    .action((opts: Options, cmd: Command) => {
      const { config } = setup(cmd);
      const dir = resolve(opts.out);
      const files = rabbitmqFiles({ broker: config.broker, topicPrefix: config.mqtt.topicPrefix, vhost: opts.vhost, dir, quorum: opts.quorum === true });
      const paths = writeRabbitmqFiles(dir, files);
      print(`wrote ${paths.conf}`);
      print(`wrote ${paths.definitions} (password hashes: readable by its owner only)`);
      print(`enable the plugin: rabbitmq-plugins enable rabbitmq_mqtt`);
      print(`use the config: RABBITMQ_CONFIG_FILE=${paths.conf} (or copy it to /etc/rabbitmq/rabbitmq.conf; the rabbitmq user must be able to read both files)`);
      const scheme = config.broker.tls ? 'mqtts' : 'mqtt';
      print(`then point every part at it: mqtt.url: ${scheme}://<this host>:${config.broker.port}`);
    });
}
