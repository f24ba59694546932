// The broker's one writer: shared/group-commit.ts over the broker's store, whose every
// section holds buffers (v8-serialized sessions, ingress entries).
import type { Level } from 'level';
import { GroupCommit as Grouped, type GroupCommitOptions } from '../shared/group-commit.js';

type Store = Level<string, Buffer>;

/** A named part of the store, holding buffers (every writer of the broker's store uses these). */
export const sublevelOf = (db: Store, name: string) => db.sublevel<string, Buffer>(name, { valueEncoding: 'buffer' });
export type Sublevel = ReturnType<typeof sublevelOf>;

export type Op =
  | { type: 'put'; sublevel: Sublevel; key: string; value: Buffer }
  | { type: 'del'; sublevel: Sublevel; key: string };

export class GroupCommit extends Grouped<Op> {
  constructor(db: Store, opts: GroupCommitOptions) {
    super((ops, options) => db.batch(ops, options), opts);
  }
}
