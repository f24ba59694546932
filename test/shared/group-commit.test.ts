// The one writer of a store: what it hands to the store's batch call, in which groups, and
// synced or not. The store is a recorder of batches; timing comes from the writer itself.
import { describe, expect, it } from 'vitest';
import { GroupCommit } from '../../shared/group-commit.js';

interface Written {
  ops: string[];
  sync: boolean;
}

function writer(sync = true) {
  const batches: Written[] = [];
  const errors: Error[] = [];
  let fail: Error | undefined;
  const commit = new GroupCommit<string>(
    async (ops, options) => {
      batches.push({ ops: [...ops], sync: options.sync });
      await new Promise((r) => setImmediate(r));
      if (fail) throw fail;
    },
    { sync, onError: (err) => errors.push(err) },
  );
  return { commit, batches, errors, failWith: (err: Error) => (fail = err) };
}

describe('the group commit', () => {
  it('writes what arrives in one turn as one synced batch, and tells each writer after it', async () => {
    const { commit, batches } = writer();
    await Promise.all([commit.write(['a']), commit.write(['b', 'c']), commit.write(['d'])]);
    expect(batches).toEqual([{ ops: ['a', 'b', 'c', 'd'], sync: true }]);
  });

  it('writes ops nobody waits on with the group of their turn, in the order queued', async () => {
    const { commit, batches } = writer();
    commit.queue(['del 1']);
    await commit.write(['put 2']);
    expect(batches).toEqual([{ ops: ['del 1', 'put 2'], sync: true }]);
  });

  it('writes a group of only ops nobody waits on unsynced, within the turn (a crash of the process loses none)', async () => {
    const { commit, batches } = writer();
    commit.queue(['del 1']);
    commit.queue(['del 2']);
    await new Promise((r) => setImmediate(r));
    expect(batches).toEqual([{ ops: ['del 1', 'del 2'], sync: false }]);
  });

  it('writes what queued up while a batch was on its way as the next group, synced if somebody waits', async () => {
    const { commit, batches } = writer();
    const first = commit.write(['put 1']);
    await new Promise((r) => setImmediate(r));
    commit.queue(['del 1']);
    const second = commit.write(['put 2']);
    await Promise.all([first, second]);
    expect(batches).toEqual([
      { ops: ['put 1'], sync: true },
      { ops: ['del 1', 'put 2'], sync: true },
    ]);
  });

  it('writes everything at flush (before the store closes)', async () => {
    const { commit, batches } = writer();
    commit.queue(['del 1']);
    await commit.flush();
    expect(batches).toEqual([{ ops: ['del 1'], sync: false }]);
  });

  it('syncs nothing when sync is off', async () => {
    const { commit, batches } = writer(false);
    await commit.write(['a']);
    expect(batches).toEqual([{ ops: ['a'], sync: false }]);
  });

  it('rejects the writers of a failed group, and reports a failed group nobody waits on', async () => {
    const { commit, errors, failWith } = writer();
    failWith(new Error('disk full'));
    await expect(commit.write(['a'])).rejects.toThrow('disk full');
    commit.queue(['del a']);
    await commit.flush();
    expect(errors.map((e) => e.message)).toEqual(['disk full']);
  });
});
