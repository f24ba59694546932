// Counts the persistence operations aedes has in flight, so stopping the broker can
// wait for them before closing the store. Without it, a session write or a retained
// lookup still running after aedes.close() throws LEVEL_*_NOT_OPEN from inside aedes.

interface StreamLike {
  on(event: string, fn: () => void): unknown;
  pipe: unknown;
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return typeof (v as { then?: unknown } | null)?.then === 'function';
}

function isStream(v: unknown): v is StreamLike {
  const s = v as Partial<StreamLike> | null;
  return typeof s?.on === 'function' && typeof s.pipe === 'function';
}

export class PersistenceGuard {
  #pending = 0;
  #idle: Array<() => void> = [];

  /** Wraps every method of `persistence` to count calls until their promise, callback or stream ends. */
  wrap<T extends object>(persistence: T): T {
    return new Proxy(persistence, {
      get: (target, prop, receiver) => {
        const value: unknown = Reflect.get(target, prop, receiver);
        if (typeof value !== 'function') return value;
        const counted = (...args: unknown[]) => {
          this.#pending++;
          let done = false;
          const finish = () => {
            if (done) return;
            done = true;
            this.#settle();
          };
          const last = args[args.length - 1];
          if (typeof last === 'function') {
            args[args.length - 1] = (...cbArgs: unknown[]) => {
              finish();
              return (last as (...a: unknown[]) => unknown)(...cbArgs);
            };
          }
          let result: unknown;
          try {
            result = (value as (...a: unknown[]) => unknown).apply(target, args);
          } catch (err) {
            finish();
            throw err;
          }
          if (isThenable(result)) result.then(finish, finish);
          else if (isStream(result)) {
            result.on('end', finish);
            result.on('close', finish);
            result.on('error', finish);
          } else if (typeof last !== 'function') finish();
          return result;
        };
        // aedes checks that some methods (setup) are async functions, so keep that kind.
        return value.constructor.name === 'AsyncFunction' ? async (...args: unknown[]) => counted(...args) : counted;
      },
    });
  }

  /** Resolves once nothing is in flight, or after timeoutMs (a stuck operation must not block a stop). */
  drain(timeoutMs: number): Promise<void> {
    if (this.#pending === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.#idle.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  #settle(): void {
    this.#pending--;
    if (this.#pending > 0) return;
    for (const fn of this.#idle.splice(0)) fn();
  }
}
