/**
 * Ownership of sockets, timers and listeners: everything that must be released belongs to a
 * DisposableStore, and disposing the owner releases all of it exactly once (VS Code's pattern).
 */
export interface Disposable {
  dispose(): void;
}

/** Wrap a teardown function as a Disposable that runs at most once. */
export function toDisposable(fn: () => void): Disposable {
  let done = false;
  return {
    dispose() {
      if (done) return;
      done = true;
      fn();
    },
  };
}

/** A bag of disposables released together, in reverse order of registration. */
export class DisposableStore implements Disposable {
  private readonly items = new Set<Disposable>();
  private disposed = false;

  /** Register a disposable; if the store is already disposed, it is disposed immediately. */
  add<T extends Disposable>(item: T): T {
    if (this.disposed) {
      item.dispose();
      return item;
    }
    this.items.add(item);
    return item;
  }

  /** Remove a disposable without disposing it (it was released by its own path). */
  delete(item: Disposable): void {
    this.items.delete(item);
  }

  /** Register a timer owned by this store. */
  timeout(fn: () => void, ms: number): Disposable {
    const handle = setTimeout(() => {
      this.items.delete(d);
      fn();
    }, ms);
    const d = toDisposable(() => clearTimeout(handle));
    return this.add(d);
  }

  /** Register an EventEmitter listener owned by this store. */
  listen<E extends { on(event: string, fn: (...args: any[]) => void): unknown; off(event: string, fn: (...args: any[]) => void): unknown }>(
    emitter: E,
    event: string,
    fn: (...args: any[]) => void,
  ): Disposable {
    emitter.on(event, fn);
    return this.add(toDisposable(() => emitter.off(event, fn)));
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    const list = [...this.items].reverse();
    this.items.clear();
    for (const item of list) {
      try {
        item.dispose();
      } catch {
        // One failing teardown must not keep the others from running.
      }
    }
  }
}
