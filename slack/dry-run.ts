// What `bellhop start` uses without a bot token: every post is printed instead of
// sent, so a new user sees the routing and the messages working. Under a flood (the
// default deployment taking hundreds of events a second) only the first few posts of
// each second are printed, then one line says how many more there were.
import { PrintBudget, type PrintBudgetOptions } from '../shared/print-budget.js';
import type { FindArgs, FindResult, PostArgs, SlackApi, UpdateArgs } from './api.js';

export class DryRunSlackApi implements SlackApi {
  #print: PrintBudget;
  #count = 0;

  /** `budget`: how many posts a second are printed (default 10) and how often the rest are summed up. */
  constructor(print: (line: string) => void, budget: Omit<PrintBudgetOptions, 'what' | 'prefix'> = {}) {
    this.#print = new PrintBudget(print, { ...budget, what: 'posts and updates', prefix: 'slack (dry run) ' });
  }

  async postMessage(args: PostArgs): Promise<{ channel: string; ts: string }> {
    this.#count += 1;
    const ts = `${Math.floor(Date.now() / 1000)}.${String(this.#count).padStart(6, '0')}`;
    this.#print.line(() => `slack (dry run) would post to ${args.channel}${args.threadTs ? ' (in a thread)' : ''}: ${unescape(args.text)}`);
    return { channel: args.channel, ts };
  }

  async update(args: UpdateArgs): Promise<void> {
    this.#print.line(() => `slack (dry run) would update the message in ${args.channel}: ${unescape(args.text)}`);
  }

  async authTest(): Promise<{ user: string; team: string }> {
    return { user: 'dry-run', team: 'dry-run' };
  }

  async lookupUserByEmail(email: string): Promise<string> {
    return `@${email}`;
  }

  /** Nothing was really posted, so nothing is ever found: a dry run after a crash prints again. */
  async findPosted(_args: FindArgs): Promise<FindResult> {
    return { complete: true };
  }

  async channelId(postedTo: string): Promise<string> {
    return postedTo;
  }
}

function unescape(text: string): string {
  return text.replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&amp;', '&');
}
