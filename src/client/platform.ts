/**
 * The WebSocket class of the platform: the global one in browsers, Bun, Deno
 * and Node 22+; the `ws` package on Node 20, which has no stable global WebSocket.
 */

/** The part of the WHATWG WebSocket the client uses (also fits `ws`). */
export interface ClientSocket {
  readonly readyState: number;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  /** `ws` only: drop the connection without a closing handshake. */
  terminate?: () => void;
}

/** A WebSocket constructor. */
export type SocketConstructor = new (url: string) => ClientSocket;

let found: Promise<SocketConstructor> | undefined;

/** The platform's WebSocket class, loaded once. */
export function platformWebSocket(): Promise<SocketConstructor> {
  found ??= load();
  return found;
}

async function load(): Promise<SocketConstructor> {
  const global = (globalThis as { WebSocket?: SocketConstructor }).WebSocket;
  if (global) return global;
  const ws = await import("ws");
  return ws.WebSocket as unknown as SocketConstructor;
}
