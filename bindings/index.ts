export * from './addon.js';
export * from './backends.js';
export { BackendTensor, type TensorDType, type TensorStorage } from './tensor.js';
export {
  OP_NAMES as BACKEND_OP_NAMES,
  type Backend,
  type DeviceTiming,
  type DeviceTimingOptions,
  type OpArgs,
  type OpName as BackendOpName,
  type OpVersion,
} from './backend.js';
/** The op API (one function set for every backend): `ops.gemm(x, w, …)`, `ops.getBackend('cpu')`, … */
export * as ops from './ops.js';
