import { modelOf, type Scenario } from '../scenario.js';

/**
 * Raw onnxruntime: `InferenceSession.run` of single rows in the load generator's own process,
 * default session options, no gRPC. What the model costs with nothing around it.
 */
export function onnxruntimeScenario(modelName: string, group: string): Scenario {
  return {
    id: `onnxruntime/${modelName}`,
    group,
    label: 'onnxruntime in-process (no gRPC)',
    async setup(context) {
      const model = modelOf(context, modelName);
      return {
        driver: {
          kind: 'onnxruntime',
          modelPath: model.file,
          inputName: model.inputName,
          outputName: model.outputName,
          rows: model.rows,
        },
        close: async () => undefined,
      };
    },
  };
}
