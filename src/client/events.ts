/** The client's typed events, and an emitter whose listeners cannot break it. */

/** Why messages are missing: "history" (the server's history no longer reaches back) or "restart". */
export type GapEvent =
  | {
      readonly reason: "history";
      /** First sequence number that will never arrive. */
      readonly from: number;
      /** Last sequence number that will never arrive. */
      readonly to: number;
    }
  | {
      readonly reason: "restart";
      /** The server's room restarted (new epoch): anything after `after`, in the old numbering, may be lost. */
      readonly after: number;
    };

/** Every event of a {@link Client} and what its listeners receive. */
export interface ClientEvents {
  /**
   * Connected; queued messages went out just before. With `resume: true`, once
   * welcomed by the room (`id` set); with "auto", as soon as the socket opens.
   */
  open: { readonly reconnect: boolean; readonly id: string | undefined };
  /** A room welcomed this connection: it speaks the resumable protocol from now on, as `id`. */
  welcome: { readonly id: string };
  /** One text message, delivered once and in order; `seq` in the resumable protocol. */
  message: { readonly data: string; readonly seq: number | undefined };
  /** A connection ended; `willRetry` says whether the client reconnects. */
  close: { readonly code: number; readonly reason: string; readonly willRetry: boolean };
  /** A reconnect attempt is scheduled in `delay` ms (`attempt` is 1-based). */
  reconnecting: { readonly attempt: number; readonly delay: number; readonly code: number };
  /** Something failed: a connection attempt, the socket, a listener. The client carries on. */
  error: { readonly error: Error };
  /** Messages were lost for good; see {@link GapEvent}. */
  gap: GapEvent;
  /** Who is in the room now (connection ids), after every join and leave. */
  presence: { readonly online: readonly string[] };
  /** Text for this client alone, outside the numbered stream: why a message it sent was refused. */
  notice: { readonly text: string };
}

/** A listener of event `K`. */
export type Listener<K extends keyof ClientEvents> = (event: ClientEvents[K]) => void;

/** Where an emitter reports a listener that threw; by default, the emitter's own `error` event. */
export type ListenerFailure = (type: string, error: Error) => void;

/**
 * Typed listeners of the events `E`; a listener that throws is reported (as an
 * `error` event by default), never rethrown.
 */
export class Emitter<E extends object = ClientEvents> {
  readonly #listeners = new Map<keyof E, Set<(event: never) => void>>();
  readonly #failed: ListenerFailure;

  /** An emitter with no listeners; `failed` overrides where throwing listeners are reported. */
  constructor(failed?: ListenerFailure) {
    this.#failed = failed ?? ((type, error) => this.#reportAsError(type, error));
  }

  /** Adds `listener` for `type`; returns a function that removes it. */
  on<K extends keyof E>(type: K, listener: (event: E[K]) => void): () => void {
    const set = this.#listeners.get(type) ?? new Set();
    this.#listeners.set(type, set);
    set.add(listener);
    return () => void set.delete(listener);
  }

  /** Calls every listener of `type` with `event`. */
  emit<K extends keyof E>(type: K, event: E[K]): void {
    const set = (this.#listeners.get(type) ?? []) as Iterable<(event: E[K]) => void>;
    for (const listener of [...set]) {
      try {
        listener(event);
      } catch (thrown) {
        this.#failed(String(type), thrown instanceof Error ? thrown : new Error(String(thrown)));
      }
    }
  }

  /** Reports a throwing listener as an `error` event, or on the console when that cannot be heard. */
  #reportAsError(type: string, error: Error): void {
    const errors = this.#listeners.get("error" as keyof E);
    if (type === "error" || !errors?.size) {
      console.error(`[polysocket/client] a "${type}" listener threw:`, error);
      return;
    }
    const event = { error: new Error(`a "${type}" listener threw: ${error.message}`, { cause: error }) };
    for (const listener of [...errors]) {
      try {
        (listener as (event: unknown) => void)(event);
      } catch (thrown) {
        console.error('[polysocket/client] an "error" listener threw:', thrown);
      }
    }
  }
}
