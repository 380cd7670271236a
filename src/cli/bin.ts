#!/usr/bin/env node
/**
 * The `polysocket` executable (package.json `bin`, built to `dist/cli.js`).
 * Runs on Node, and as well under Bun (`bun x polysocket`) and Deno (`deno run -A npm:polysocket`).
 */
import { main } from "./main.ts";

const code = await main(process.argv.slice(2));
if (code !== undefined) process.exitCode = code;
