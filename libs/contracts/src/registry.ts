export * from './gen/slipway/registry/v1/models.js';
export * from './gen/slipway/registry/v1/deployments.js';
export * from './gen/slipway/registry/v1/endpoints.js';
export * from './gen/slipway/registry/v1/watch.js';
export * from './gen/slipway/registry/v1/audit.js';
export * from './gen/slipway/registry/v1/batch.js';
