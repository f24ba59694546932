// The import rule of docs/architecture.md, as ESLint applies it in `npm test`: a part imports
// only shared/ and its own files, and shared/ imports no part.
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const eslint = new ESLint({ cwd: root });

async function restrictedImports(file: string, source: string): Promise<string[]> {
  const [result] = await eslint.lintText(source, { filePath: `${root}${file}` });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('the import-boundary lint rule', () => {
  it.each([
    ['device/x.ts', "import { createWebClient } from '../slack/api.js';\nexport const x = createWebClient;", 'slack/'],
    ['slack/socket/x.ts', "import { BrokerPart } from '../../broker/broker.js';\nexport const x = BrokerPart;", 'broker/'],
    ['server/x.ts', "import { AgentPart } from '../device/agent.js';\nexport const x = AgentPart;", 'device/'],
    ['broker/x.ts', "import { buildSlack } from '../cli/compose.js';\nexport const x = buildSlack;", 'cli/'],
    ['shared/x.ts', "import { ServerPart } from '../server/server.js';\nexport const x = ServerPart;", 'server/'],
  ])('refuses %s importing another part', async (file, source, other) => {
    const messages = await restrictedImports(file, source);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatch(new RegExp(`not( import)? ${other}`));
  });

  it.each([
    ['device/x.ts', "import { topics } from '../shared/topics.js';\nexport const x = topics;"],
    ['slack/socket/x.ts', "import { SlackApi } from '../api.js';\nexport type X = SlackApi;"],
    ['cli/x.ts', "import { AgentPart } from '../device/agent.js';\nexport const x = AgentPart;"],
  ])('lets %s import shared/, its own files, or (the CLI) any part', async (file, source) => {
    expect(await restrictedImports(file, source)).toEqual([]);
  });
});
