export * from './gen/inference/grpc_predict_v2.js';
