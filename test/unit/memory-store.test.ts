/** The RoomStore contract (test/store-suite.ts) on the in-memory store. */
import { MemoryRoomStore } from "../../src/core/rooms/memory-store.ts";
import { storeSuite } from "../store-suite.ts";

storeSuite("memory", () => ({ open: () => Promise.resolve(new MemoryRoomStore()), shared: false }));
