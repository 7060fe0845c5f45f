#!/usr/bin/env node
// Committed entry for the `slipway` bin: npm links bins at install time, before `npm run build`
// has produced dist/, so the link must point at a file that always exists.
await import('../dist/bin.js');
