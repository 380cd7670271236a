/**
 * The Standard Schema v1 interface (https://standardschema.dev), written out
 * here as the spec invites, so that polysocket accepts any conforming schema
 * (zod, valibot, arktype, effect, ...) without depending on one. Types only:
 * this module imports nothing and emits nothing. Flat names instead of the
 * spec's `StandardSchemaV1.*` namespace; the shapes are the same, so every
 * library's schemas fit them structurally.
 */

/** A schema of any Standard Schema v1 library: its `~standard` property is the whole contract. */
export interface StandardSchemaV1<Input = unknown, Output = Input> {
  /** The Standard Schema properties. */
  readonly "~standard": StandardSchemaProps<Input, Output>;
}

/** What a schema's `~standard` property holds. */
export interface StandardSchemaProps<Input = unknown, Output = Input> {
  /** The version of the standard: 1. */
  readonly version: 1;
  /** The schema library's name, e.g. `"zod"` or `"valibot"`. */
  readonly vendor: string;
  /** Validates an unknown value: its (possibly transformed) value, or issues; sync or async. */
  readonly validate: (
    value: unknown,
    options?: StandardOptions | undefined,
  ) => StandardResult<Output> | Promise<StandardResult<Output>>;
  /** The schema's input and output types, for inference only (absent at run time). */
  readonly types?: StandardTypes<Input, Output> | undefined;
}

/** Options a caller may pass to `validate` (polysocket passes none). */
export interface StandardOptions {
  /** Vendor-specific parameters. */
  readonly libraryOptions?: Record<string, unknown> | undefined;
}

/** The outcome of `validate`: a value, or issues. */
export type StandardResult<Output> = StandardSuccess<Output> | StandardFailure;

/** A value the schema accepted (and maybe transformed). */
export interface StandardSuccess<Output> {
  /** The output value. */
  readonly value: Output;
  /** No issues: this is how a success is told from a failure. */
  readonly issues?: undefined;
}

/** A value the schema refused. */
export interface StandardFailure {
  /** What is wrong, at least one issue. */
  readonly issues: ReadonlyArray<StandardIssue>;
}

/** One thing wrong with a value. */
export interface StandardIssue {
  /** The schema's message, e.g. `Expected string, received number`. */
  readonly message: string;
  /** Where in the value, outermost key first; absent or empty for the value itself. */
  readonly path?: ReadonlyArray<PropertyKey | StandardPathSegment> | undefined;
}

/** One step of an issue's path, as an object. */
export interface StandardPathSegment {
  /** The key of this step. */
  readonly key: PropertyKey;
}

/** The input and output types of a schema. */
export interface StandardTypes<Input = unknown, Output = Input> {
  /** What the schema accepts. */
  readonly input: Input;
  /** What it produces. */
  readonly output: Output;
}

/** The output type of a schema: what its `validate` hands back on success. */
export type InferOutput<Schema extends StandardSchemaV1> = NonNullable<
  Schema["~standard"]["types"]
>["output"];
