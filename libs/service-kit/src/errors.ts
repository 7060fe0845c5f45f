// The typed domain errors live in @slipway/errors so that domain libraries can throw them without
// depending on the transport; the kit re-exports them next to the one mapping to status codes.
export * from '@slipway/errors';
