export * from './gen/slipway/testing/v1/echo.js';
