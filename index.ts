// The package's main entry: the engine's JS API.
// `import { loadModel, devices } from 'maas'`
export { loadModel, devices } from './native';
export type { Session, Tensor, TensorMetadata, TensorType, LoadOptions, DeviceInfo } from './native/types';
export { startServer } from './gateway/server';
export type { ServerOptions, RunningServer } from './gateway/server';
