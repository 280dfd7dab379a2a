import type { EventName, EventPayload } from '../../shared/contract';
import { toDisposable, type Disposable } from './disposable';

type Listener<E extends EventName> = (payload: EventPayload<E>) => void;

/**
 * Typed in-process bus for the contract's events. Transports (WebSocket, Electron IPC) subscribe to it and
 * forward; the gateway publishes. A throwing listener is isolated so one bad subscriber can't break the
 * data path that published.
 */
export class EventBus {
  private readonly listeners = new Map<EventName, Set<Listener<any>>>();
  private readonly any = new Set<(event: EventName, payload: unknown) => void>();

  /** Subscribe to one event. */
  on<E extends EventName>(event: E, listener: Listener<E>): Disposable {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(listener);
    return toDisposable(() => set!.delete(listener));
  }

  /** Subscribe to every event (used by transports that forward all of them). */
  onAny(listener: (event: EventName, payload: unknown) => void): Disposable {
    this.any.add(listener);
    return toDisposable(() => this.any.delete(listener));
  }

  /** Publish an event to its subscribers, synchronously. */
  emit<E extends EventName>(event: E, payload: EventPayload<E>): void {
    const set = this.listeners.get(event);
    if (set) for (const l of set) safeCall(() => l(payload));
    for (const l of this.any) safeCall(() => l(event, payload));
  }

  /** Whether anything listens to this event (lets hot paths skip building payloads). */
  hasListeners(event: EventName): boolean {
    return this.any.size > 0 || (this.listeners.get(event)?.size ?? 0) > 0;
  }
}

function safeCall(fn: () => void): void {
  try {
    fn();
  } catch (err) {
    process.emitWarning(`event listener failed: ${(err as Error)?.message ?? err}`);
  }
}
