/**
 * The runtime-neutral core of polysocket: the connection and server contract,
 * topics, rooms (and the chat room, one of them) with their store contract,
 * typed messages, the metrics seam, errors and the adapter seam. It imports no
 * runtime module.
 *
 * @module
 */

export type { Adapter, Engine, EngineLimits, Listener } from "./adapter.ts";
export {
  ChatRoom,
  type ChatRoomOptions,
  MAX_CHAT_MESSAGE,
  type SharedChatRoomOptions,
  validateChatMessage,
} from "./chat-room.ts";
export { isSendableCloseCode, MAX_REASON_BYTES } from "./close-codes.ts";
export { Connection, type ConnectionState } from "./connection.ts";
export { WebSocketError, type WebSocketErrorCode } from "./errors.ts";
export type { MessageFormat, MessageOf } from "./json-messages.ts";
export type { MetricsObserver, RefusalReason } from "./observer.ts";
export type {
  CloseInfo,
  MessagesOption,
  ResolvedOptions,
  ResolvedTls,
  ServerHooks,
  ServerOptions,
} from "./options.ts";
export {
  type ClientFrame,
  type PresenceMember,
  RESUME_PARAM,
  type Ref,
  type ResumePoint,
  type ServerFrame,
} from "./resume-protocol.ts";
export type { MemberKind } from "./rooms/frames.ts";
export { MemoryRoomStore } from "./rooms/memory-store.ts";
export type { RoomsOptions } from "./rooms/options.ts";
export { Room, type RoomPolicy } from "./rooms/room.ts";
export { Rooms } from "./rooms/rooms.ts";
export {
  type JsonValue,
  type Member,
  type Origin,
  OUT_OF_ORDER,
  type PresenceChange,
  type RetentionLimits,
  type RoomData,
  type RoomEntry,
  type RoomListener,
  type RoomSnapshot,
  type RoomStore,
  SESSION_TTL,
  SESSION_WINDOW,
} from "./rooms/store.ts";
export { detectRuntime, type RuntimeName } from "./runtime.ts";
export {
  BaseServer,
  type BroadcastOptions,
  type CloseOptions,
  type ListenInfo,
  type PublishOptions,
  SHUTDOWN_CLOSE,
} from "./server.ts";
export type {
  InferOutput,
  StandardFailure,
  StandardIssue,
  StandardOptions,
  StandardPathSegment,
  StandardResult,
  StandardSchemaProps,
  StandardSchemaV1,
  StandardSuccess,
  StandardTypes,
} from "./standard-schema.ts";
export {
  type BackpressureOptions,
  type CompressionOptions,
  type HeartbeatOptions,
  type IncomingRequest,
  type KeepHeaders,
  type NativeGroups,
  type Prepared,
  type RateLimitOptions,
  ReadyState,
  type Refusal,
  type RequestHandler,
  type RouteDecision,
  type TlsOptions,
  type Transport,
  type UpgradeAccept,
  type UpgradeReject,
  type UpgradeRequest,
  type UpgradeResult,
  type Wire,
} from "./types.ts";
