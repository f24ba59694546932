// What a built-in message template is: per event type, a function of the event that
// says what happened (title), the first line a person reads (headline), and picks a few
// labelled fields, small print and links. The renderer turns it into Block Kit; a
// template in the config can replace any of these parts.
import type { Envelope } from '../../shared/envelope.js';
import type { Part, Text } from './text.js';
import type { Facts } from './values.js';

export interface Link {
  label: string;
  url: string;
}

export interface Draft {
  /** Emoji shortcode in front of the headline, e.g. ":credit_card:". */
  icon?: string;
  /** The header: what happened, short, plain text. */
  title: string;
  /** The first line: who, what, and how much or where. Also the notification text. */
  headline: Text;
  /** The headline without what the digest header already says, for digest lists. */
  brief?: Text | undefined;
  /** Lines under the headline: a reason, a message body. */
  details?: Part[];
  /** A few labelled values; empty ones are left out. */
  fields?: Array<[label: string, value: Part]>;
  /** Small print for the context line: ids and what did not make the fields. */
  notes?: Part[];
  /** Buttons, before the event's own data.links. */
  links?: Link[];
}

export type Template = (event: Envelope, d: Facts) => Draft;

/** Built-in templates by event type; a key ending in ".*" serves the types under it. */
export type TemplateTable = Readonly<Record<string, Template>>;
