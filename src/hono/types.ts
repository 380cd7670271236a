/**
 * The little of Hono that polysocket/hono uses, described structurally so that
 * neither its code nor its published types need Hono installed: any Hono
 * version 4 `Context` and `app` fit.
 */

/** What the handler reads of Hono's `Context`: the request as the runtime gave it, and `c.env`. */
export interface HonoContext {
  /** The request; `raw` is the runtime's own. */
  readonly req: { readonly raw: Request };
  /** Bun's server, Deno's serve info, or `@hono/node-server`'s bindings. */
  readonly env: unknown;
}

/** A Hono route handler: pass it to `app.get(path, ...middleware, handler)`. */
export type HonoUpgradeHandler = (c: HonoContext) => Response | Promise<Response>;
