// Phone calls: who is calling (name and number), on which line, and who took it.
import type { Envelope } from '../../shared/envelope.js';
import type { Draft, TemplateTable } from './spec.js';
import { join, t } from './text.js';
import { Facts, words } from './values.js';
import { person } from './who.js';

function call(direction: 'incoming' | 'outgoing') {
  return (e: Envelope, d: Facts): Draft => {
    const number = d.s('number') ?? e.subject;
    const other = person(d.s('name'), undefined, number);
    const party = d.s('name') && number ? t`${d.s('name')} (${number})` : other;
    const line = d.s('line');
    const agent = d.s('agent');
    const incoming = direction === 'incoming';
    const head = incoming ? join(' ', ['Incoming call', party && t`from ${party}`]) : join(' ', ['Outgoing call', party && t`to ${party}`]);
    return {
      icon: incoming ? ':telephone_receiver:' : ':iphone:',
      title: join(' ', [incoming ? 'Incoming call' : 'Outgoing call', other && t`${incoming ? 'from' : 'to'} ${other}`])!.plain,
      headline: join('', [head, line && t` ${incoming ? 'on' : 'from'} ${line}`, agent && t`, ${agent}`])!,
      brief: join('', [party, line && t` on ${line}`]),
      notes: [words(d.s('event'))?.toLowerCase(), t`call ${d.s('callId')}`],
    };
  };
}

export const CALLS: TemplateTable = {
  'call.incoming': call('incoming'),
  'call.outgoing': call('outgoing'),
};
