/**
 * The `compression` option as Bun's: its native permessage-deflate negotiates
 * and inflates (`maxPayloadLength` counts inflated bytes: 1009 past it), and
 * every send says whether to compress, which is where the threshold applies.
 */
import type { EngineLimits } from "../../core/adapter.ts";
import type { BunDeflate } from "./types.ts";

/**
 * `websocket.perMessageDeflate`: without server context, Bun's shared compressor
 * (one for every socket, reset after each message); with it, a dedicated 256 KB
 * one per socket. The same for the client's side. Either way Bun deflates a
 * publish once per subscriber: its topic tree sends to each socket in turn, and
 * each compressed send deflates anew (bun-uws App.h, WebSocket.h). Its API sends
 * no pre-deflated frame, so nothing here can share one deflate between sockets.
 */
export function bunDeflate({ compression }: EngineLimits): BunDeflate | false {
  if (!compression) return false;
  return {
    compress: compression.serverContextTakeover ? "dedicated" : "shared",
    decompress: compression.clientContextTakeover ? "dedicated" : "shared",
  };
}

/**
 * Whether a message reaches `threshold` bytes (UTF-8 for text), so that Bun
 * compresses it for sockets that negotiated compression; never when off.
 */
export function compressor({ compression }: EngineLimits): (message: string | Uint8Array) => boolean {
  if (!compression) return () => false;
  const { threshold } = compression;
  return (message) => {
    if (typeof message !== "string") return message.byteLength >= threshold;
    // UTF-8 takes one to three bytes per UTF-16 unit: count only when that leaves a doubt.
    if (message.length >= threshold) return true;
    if (message.length * 3 < threshold) return false;
    return utf8Length(message) >= threshold;
  };
}

/** UTF-8 length of `text` (a lone surrogate counts 3 bytes, as its replacement character). */
function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) bytes += 1;
    else if (unit < 0x800) bytes += 2;
    else if (unit >= 0xd800 && unit < 0xdc00 && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}
