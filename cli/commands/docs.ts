// `bellhop config-reference [--write docs/configuration.md]`: the configuration reference, from the schema.
import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { referenceMarkdown, withReference } from '../../shared/config/reference.js';
import { print } from '../context.js';

export function registerDocs(program: Command): void {
  program
    .command('config-reference')
    .description('print every config key with its type, default and meaning (Markdown)')
    .option('--write <file>', 'replace the reference between the markers in this file (docs/configuration.md) instead')
    .action((opts: { write?: string }) => {
      if (!opts.write) return void process.stdout.write(referenceMarkdown());
      writeFileSync(opts.write, withReference(readFileSync(opts.write, 'utf8')));
      print(`updated the configuration reference in ${opts.write}`);
    });
}
