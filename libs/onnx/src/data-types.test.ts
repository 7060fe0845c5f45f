import { describe, expect, it } from 'vitest';
import {
  ONNX_TENSOR_TYPE_CODES,
  datatypeByteSize,
  datatypeToOnnxType,
  datatypeToOrtType,
  isOnnxTensorType,
  onnxTypeByteSize,
  onnxTypeCode,
  onnxTypeFromCode,
  onnxTypeString,
  onnxTypeToDatatype,
  onnxTypeToOrtType,
  ortTypeToDatatype,
  ortTypeToOnnxType,
  type OipDatatype,
} from './data-types.js';

const TABLE: [OipDatatype, string, string, number | undefined][] = [
  ['BOOL', 'BOOL', 'bool', 1],
  ['UINT8', 'UINT8', 'uint8', 1],
  ['UINT16', 'UINT16', 'uint16', 2],
  ['UINT32', 'UINT32', 'uint32', 4],
  ['UINT64', 'UINT64', 'uint64', 8],
  ['INT8', 'INT8', 'int8', 1],
  ['INT16', 'INT16', 'int16', 2],
  ['INT32', 'INT32', 'int32', 4],
  ['INT64', 'INT64', 'int64', 8],
  ['FP16', 'FLOAT16', 'float16', 2],
  ['FP32', 'FLOAT', 'float32', 4],
  ['FP64', 'DOUBLE', 'float64', 8],
  ['BYTES', 'STRING', 'string', undefined],
];

describe('datatype mapping', () => {
  it.each(TABLE)('%s ⇄ ONNX %s ⇄ onnxruntime %s', (datatype, onnxType, ortType, bytes) => {
    expect(datatypeToOnnxType(datatype)).toBe(onnxType);
    expect(onnxTypeToDatatype(onnxType)).toBe(datatype);
    expect(onnxTypeToOrtType(onnxType)).toBe(ortType);
    expect(ortTypeToOnnxType(ortType)).toBe(onnxType);
    expect(datatypeToOrtType(datatype)).toBe(ortType);
    expect(ortTypeToDatatype(ortType)).toBe(datatype);
    expect(datatypeByteSize(datatype)).toBe(bytes);
    expect(onnxTypeByteSize(onnxType)).toBe(bytes);
  });

  it('has no Open Inference Protocol datatype for bfloat16, complex, float8 and 4-bit types', () => {
    for (const onnxType of [
      'BFLOAT16',
      'COMPLEX64',
      'COMPLEX128',
      'FLOAT8E4M3FN',
      'INT4',
      'UINT4',
      'UNDEFINED',
      'NOPE',
    ]) {
      expect(onnxTypeToDatatype(onnxType)).toBe('');
    }
    expect(datatypeToOnnxType('BF16')).toBeUndefined();
    expect(onnxTypeToOrtType('BFLOAT16')).toBeUndefined();
    expect(onnxTypeToOrtType('INT4')).toBe('int4');
    expect(onnxTypeByteSize('BFLOAT16')).toBe(2);
    expect(onnxTypeByteSize('INT4')).toBeUndefined();
  });

  it('converts TensorProto.DataType codes both ways', () => {
    for (const [name, code] of Object.entries(ONNX_TENSOR_TYPE_CODES)) {
      expect(onnxTypeFromCode(code)).toBe(name);
      expect(isOnnxTensorType(name)).toBe(true);
      if (isOnnxTensorType(name)) expect(onnxTypeCode(name)).toBe(code);
    }
    expect(ONNX_TENSOR_TYPE_CODES).toMatchObject({
      FLOAT: 1,
      INT64: 7,
      STRING: 8,
      BOOL: 9,
      FLOAT16: 10,
      DOUBLE: 11,
      BFLOAT16: 16,
    });
    expect(onnxTypeFromCode(999)).toBeUndefined();
    expect(isOnnxTensorType('float')).toBe(false);
  });

  it('writes the names ONNX type strings use', () => {
    expect(['FLOAT', 'DOUBLE', 'INT64', 'STRING', 'FLOAT16'].map(onnxTypeString)).toEqual([
      'float',
      'double',
      'int64',
      'string',
      'float16',
    ]);
  });
});
