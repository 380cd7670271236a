/** The package version; `npm run check:exports` keeps it equal to package.json's. */
export const VERSION = "0.1.0";
