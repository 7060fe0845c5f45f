export * from './gen/slipway/features/v1/features.js';
