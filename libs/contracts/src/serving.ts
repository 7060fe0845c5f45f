export * from './gen/slipway/serving/v1/prediction.js';
