export * from './gen/slipway/monitor/v1/monitor.js';
